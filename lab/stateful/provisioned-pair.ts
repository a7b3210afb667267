// The stateful pair as users get it: `natgw provision --ha --stateful` (the real provisioner) against the lab's Compute
// API, two NAT VMs booting with the real startup script and agent (conntrackd included), the lab emulating the
// internal and external passthrough load balancers with their failover policy. The failover measurement runs on it.
import { apiPath } from '../cloud-nat.js';
import type { RunResult } from '../../agent/runner.js';
import { CLIENT_TAG, natgwCli, PROVISION_FLAGS } from '../demo.js';
import { SYNC_PORT, until, type FailoverSetup } from '../failover.js';
import { LAB_PROJECT, LAB_REGION, LabCloud } from '../gce.js';
import type { LabVm } from '../lab.js';
import { HEALTH_PROBER } from '../model.js';
import { AGENT_PORT } from '../../common/protocol.js';

/** The gateway's name: provision's default for the lab's region. */
export const GATEWAY = `natgw-${LAB_REGION}`;
const REGION_SCOPE = `regions/${LAB_REGION}`;
export const MIGS = [`${GATEWAY}-mig-a`, `${GATEWAY}-mig-b`];
export const INTERNAL_LB = `${GATEWAY}-fr`;
export const EXTERNAL_LB = `${GATEWAY}-nat-fr`;
const NO_SYNC_TABLE = 'natgw_failover_no_sync';

export interface ProvisionedPair extends FailoverSetup {
  cloud: LabCloud;
  /** `natgw provision --ha --stateful` again with `extra` flags (a changed machine type: the rolling replacement). */
  provision(extra: string[]): Promise<RunResult>;
  close(): Promise<void>;
}

/** One agent metric (its first series), read from the health checkers' address: the firewall and the agent's input chain let it through. */
export async function agentMetric(cloud: LabCloud, vm: LabVm, metric: string): Promise<number | undefined> {
  return (await agentMetricSeries(cloud, vm, metric))?.[0];
}

/** Every series of one agent metric (with or without labels: the sync series carry the peer's address), in scrape order. */
export async function agentMetricSeries(cloud: LabCloud, vm: LabVm, metric: string): Promise<number[] | undefined> {
  const { stdout, exitCode } = await cloud.lab.run(
    `read ${metric} on ${vm.name}`,
    cloud.lab.fabric,
    ['curl', '-sS', '-m', '2', '--interface', HEALTH_PROBER, `http://${vm.ip}:${AGENT_PORT}/metrics`],
    { okExitCodes: [7, 28, 52, 56] },
  );
  if (exitCode !== 0) return undefined;
  const lines = stdout.split('\n').filter((candidate) => candidate.startsWith(`${metric} `) || candidate.startsWith(`${metric}{`));
  return lines.length === 0 ? undefined : lines.map((line) => Number(line.split(' ').at(-1)));
}

/** The NAT VMs of the gateway's managed instance groups `migs`, as lab VMs. */
export function natVmsOf(cloud: LabCloud, migs: readonly string[]): LabVm[] {
  return migs.flatMap((name) => {
    const mig = cloud.store.get(LAB_PROJECT, REGION_SCOPE, 'instanceGroupManagers', name);
    if (mig === undefined) return [];
    return cloud.store.managedInstances(mig).flatMap((instance) => {
      const vm = cloud.lab.vms.get(String(instance.name));
      return vm === undefined ? [] : [vm];
    });
  });
}

/** Both NAT VMs of `migs` exist and every load balancer of `lbs` sees them healthy. */
export async function bothHealthy(cloud: LabCloud, migs: readonly string[], lbs: readonly string[], timeoutMs: number): Promise<LabVm[]> {
  let vms: LabVm[] = [];
  const healthy = await until(
    () => {
      vms = natVmsOf(cloud, migs);
      return vms.length === 2 && lbs.every((lb) => vms.every((vm) => cloud.lab.healthyBackendsOf(lb).includes(vm.ip)));
    },
    timeoutMs,
    250,
  );
  if (!healthy)
    throw new Error(
      `the NAT VMs are not both healthy after ${timeoutMs / 1000} s: ${lbs
        .map((lb) => `${lb} healthy ${cloud.lab.healthyBackendsOf(lb).join(', ') || 'none'}`)
        .join('; ')}`,
    );
  return vms;
}

/**
 * Cuts the NAT VMs' sync link where GCE's network would: between them, in the fabric's bridge. Deleting the
 * NAME-sync firewall rule is not enough, on GCE as in the lab: NAME-clients admits the whole client range, which
 * holds the NAT VMs' own addresses, so their sync traffic passes by that rule too.
 */
async function cutSyncLink(cloud: LabCloud, vms: LabVm[]): Promise<void> {
  const ips = vms.map((vm) => vm.ip).join(', ');
  const table = [
    `table bridge ${NO_SYNC_TABLE} {`,
    '  chain forward {',
    '    type filter hook forward priority -10; policy accept;',
    `    ip saddr { ${ips} } ip daddr { ${ips} } udp dport ${SYNC_PORT} drop`,
    `    ip saddr { ${ips} } ip daddr { ${ips} } tcp dport ${AGENT_PORT} drop`,
    '  }',
    '}',
    '',
  ].join('\n');
  await cloud.lab.run('cut the sync link', cloud.lab.fabric, ['nft', '-f', '-'], { input: table });
}

/** When each of `lbs` started sending new connections to `to` only, in ms after `since` (null: it did not). */
/** The interval of the health check provision gave a load balancer, as the lab's Compute API holds it. */
export function trafficCheckIntervalMs(cloud: LabCloud, forwardingRule: string): number {
  const at = (link: unknown) => cloud.store.getByPath(apiPath(link));
  const rule = cloud.store.get(LAB_PROJECT, `regions/${LAB_REGION}`, 'forwardingRules', forwardingRule);
  const service = at(rule?.backendService);
  const check = at(((service?.healthChecks as unknown[] | undefined) ?? [])[0]);
  const intervalMs = Number(check?.checkIntervalSec) * 1000;
  if (!(intervalMs > 0)) throw new Error(`no health check with an interval behind ${forwardingRule}`);
  return intervalMs;
}

export function loadBalancerMovesOf(cloud: LabCloud, lbs: readonly string[]): (since: number, to: LabVm) => Record<string, number | null> {
  return (since, to) =>
    Object.fromEntries(
      lbs.map((lb) => {
        const moved = cloud.lab.loadBalancerEvents.find(
          (event) => event.lb === lb && event.at >= since && event.active.length === 1 && event.active[0] === to.ip,
        );
        return [lb, moved === undefined ? null : moved.at - since];
      }),
    );
}

/** Another client VM the lab holds before natgw is provisioned (a canIpForward one, say). */
export interface ExtraWorkload {
  name: string;
  tags: string[];
  canIpForward?: boolean;
}

/** A lab with the flows' and the bulk transfer's tagged VMs, and `natgw provision` (with more flags) into it. */
export interface ProvisionedLab {
  cloud: LabCloud;
  client: string;
  bulkClient: string;
  provision(extra: string[]): Promise<RunResult>;
}

/**
 * Builds the lab with two tagged client VMs, runs `natgw provision MODE_FLAGS` (the real provisioner) into it and
 * hands the settled lab to `build`; the lab is torn down if anything fails before `build` returns.
 */
export async function provisionedLab<Setup>(
  modeFlags: readonly string[],
  say: (line: string) => void,
  build: (provisioned: ProvisionedLab) => Promise<Setup>,
  moreWorkloads: readonly ExtraWorkload[] = [],
): Promise<Setup> {
  const cloud = await LabCloud.start();
  try {
    const [client, bulkClient] = ['client', 'bulk-client'] as const;
    for (const name of [client, bulkClient]) await cloud.addWorkload(name, [CLIENT_TAG]);
    // Before provision: the lab re-programs every VM's load-balancer steering when a VM is added later.
    for (const extra of moreWorkloads) await cloud.addWorkload(extra.name, extra.tags, { canIpForward: extra.canIpForward });
    const provision = (extra: string[]) => natgwCli(cloud, 'provision', [...PROVISION_FLAGS, ...modeFlags, ...extra]);
    const command = `natgw provision ${modeFlags.join(' ')}`;
    say(`lab ${cloud.lab.id} up; $ ${command} --client-tag ${CLIENT_TAG} … (the real provisioner, the lab's Compute API)`);
    const provisioned = await provision([]);
    if (provisioned.exitCode !== 0)
      throw new Error(`${command} failed (exit ${provisioned.exitCode}): ${(provisioned.stdout + provisioned.stderr).slice(-3000)}`);
    await cloud.settled();
    return await build({ cloud, client, bulkClient, provision });
  } catch (error) {
    await cloud.close();
    throw error;
  }
}

/**
 * Builds the lab, provisions `--ha --stateful` into it with two tagged client VMs, and waits until both NAT VMs are
 * healthy. Without `sync`, the sync link is cut afterwards and the agents must see their peer gone before the
 * measurement starts.
 */
export function buildProvisionedPair(options: {
  sync: boolean;
  say?: (line: string) => void;
  moreWorkloads?: readonly ExtraWorkload[];
}): Promise<ProvisionedPair> {
  const say = options.say ?? (() => undefined);
  return provisionedLab(
    ['--ha', '--stateful'],
    say,
    async ({ cloud, client, bulkClient, provision }) => {
      const natIp = String(cloud.store.get(LAB_PROJECT, REGION_SCOPE, 'addresses', `${GATEWAY}-nat-ip`)?.address ?? '');
      if (natIp === '') throw new Error(`provision created no ${GATEWAY}-nat-ip address`);
      const vms = await bothHealthy(cloud, MIGS, [INTERNAL_LB, EXTERNAL_LB], 120_000);
      // Healthy is the checker's view; each load balancer acts on it only after its programming delay. Until both have
      // failed back to the primary (mig-a's VM), the VM the clients use is about to change and the wrong one would be failed.
      const primary = natVmsOf(cloud, MIGS)[0];
      if (primary !== undefined)
        await Promise.all(
          [INTERNAL_LB, EXTERNAL_LB].map((lb) =>
            cloud.lab.whenActive(lb, (active) => active.length === 1 && active[0] === primary.ip, 120_000),
          ),
        );
      say(`provisioned: NAT VMs ${vms.map((vm) => `${vm.name} ${vm.ip}`).join(', ')}, NAT IP ${natIp}, both healthy`);
      if (!options.sync) {
        await cutSyncLink(cloud, vms);
        const peerDown = await until(
          async () => (await Promise.all(vms.map((vm) => agentMetric(cloud, vm, 'natgw_sync_peer_up')))).every((up) => up === 0),
          30_000,
          500,
        );
        if (!peerDown) throw new Error('the agents still see their peer 30 s after the sync link was cut');
        say(
          `--no-sync: the sync link between the NAT VMs is cut (udp ${SYNC_PORT}, tcp ${AGENT_PORT}); both agents report their peer down`,
        );
      }
      return {
        cloud,
        lab: cloud.lab,
        natIp,
        natVms: () => natVmsOf(cloud, MIGS),
        client,
        bulkClient,
        sync: options.sync,
        activeBackends: async () => cloud.lab.activeBackendsOf(INTERNAL_LB),
        failHost: (vm) => cloud.lab.failHost(vm.name),
        loadBalancerMoves: loadBalancerMovesOf(cloud, [INTERNAL_LB, EXTERNAL_LB]),
        healthCheckCycleMs: trafficCheckIntervalMs(cloud, INTERNAL_LB),
        provision,
        close: () => cloud.close(),
      };
    },
    options.moreWorkloads,
  );
}
