// A lab shaped like a natgw deployment: a NAT VM with an external IP, private VMs routed to it (inside and outside the
// configured ranges), and helpers to drive the agent and observe traffic from the private side.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Test } from 'tap';
import { waitUntil } from '../../common/wait.js';
import { INTERNET, Lab, repoRoot, type LabProcess } from '../../lab/lab.js';

export const NAT_IP = '10.10.0.2';
export const NAT_EXTERNAL_IP = '203.0.113.10';
export const ALLOWED_RANGE = '10.10.0.0/25';
export const LISTEN = '127.0.0.1:9731';

export interface NatLab {
  lab: Lab;
  natgw: string;
  configFile: string;
  writeConfig(config: unknown): void;
  startAgent(args?: string[]): LabProcess;
  agentCli(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  healthz(): Promise<{
    status: number;
    body: { status: string; failed: string[]; checks: Record<string, { ok: boolean; detail: string }>; warnings: string[] };
  }>;
  /** The HTTP status of /livez (0 when nothing answers). */
  livezStatus(): Promise<number>;
  metrics(): Promise<Map<string, number>>;
  whoami(vm: string, timeoutSeconds?: number): Promise<string | undefined>;
  udpWhoami(vm: string): Promise<string | undefined>;
  ping(vm: string): Promise<boolean>;
  /** The whole nft ruleset (ours, the lab's GCE firewall, iptables-nft's tables) with counter values left out. */
  saveRuleset(): Promise<string>;
  /** Our table as nft lists it, counter values left out; '' when it is absent. */
  natTable(): Promise<string>;
  waitUntil(what: string, check: () => Promise<boolean>, timeoutMs?: number): Promise<void>;
}

export const baseConfig = (overrides: Record<string, unknown> = {}) => ({
  sourceRanges: [ALLOWED_RANGE],
  reconcileIntervalSeconds: 1,
  ...overrides,
});

export async function createNatLab(t: Test, options: { withOutsider?: boolean; metadataConfig?: unknown } = {}): Promise<NatLab> {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const natgw = path.join(repoRoot(), 'bin', 'natgw.js');
  await lab.addVm({
    name: 'nat',
    ip: NAT_IP,
    externalIp: NAT_EXTERNAL_IP,
    canIpForward: true,
    attributes: options.metadataConfig === undefined ? {} : { 'natgw-config': JSON.stringify(options.metadataConfig) },
  });
  await lab.addVm({ name: 'private', ip: '10.10.0.11', defaultVia: NAT_IP });
  if (options.withOutsider !== false) await lab.addVm({ name: 'outsider', ip: '10.10.0.200', defaultVia: NAT_IP });
  const configFile = path.join(lab.vm('nat').root, 'natgw.json');
  const curl = (vm: string, args: string[]) => lab.exec(vm, ['curl', '-sS', ...args], { okExitCodes: [6, 7, 22, 28, 52, 56] });

  const natLab: NatLab = {
    lab,
    natgw,
    configFile,
    writeConfig: (config) => writeFileSync(configFile, typeof config === 'string' ? config : JSON.stringify(config)),
    startAgent: (args = ['--config', configFile]) =>
      lab.spawn('nat', ['node', natgw, 'agent', '--listen', LISTEN, '--root', lab.vm('nat').root, ...args], 'natgw agent'),
    agentCli: async (args) => {
      const result = await lab.exec('nat', ['node', natgw, 'agent', '--root', lab.vm('nat').root, ...args], { okExitCodes: [1, 2] });
      return result;
    },
    healthz: async () => {
      const { stdout } = await curl('nat', ['-m', '10', '-w', '\n%{http_code}', `http://${LISTEN}/healthz`]);
      const lines = stdout.trimEnd().split('\n');
      const status = Number(lines.pop());
      return { status, body: status === 0 ? { status: 'down', failed: ['http'], checks: {}, warnings: [] } : JSON.parse(lines.join('\n')) };
    },
    livezStatus: async () =>
      Number((await curl('nat', ['-m', '10', '-o', '/dev/null', '-w', '%{http_code}', `http://${LISTEN}/livez`])).stdout),
    metrics: async () => {
      const { stdout } = await curl('nat', ['-m', '10', `http://${LISTEN}/metrics`]);
      const values = new Map<string, number>();
      for (const line of stdout.split('\n')) {
        const match = /^(natgw_\S+) (\S+)$/.exec(line);
        if (match !== null) values.set(match[1] ?? '', Number(match[2]));
      }
      return values;
    },
    whoami: async (vm, timeoutSeconds = 3) => {
      const { stdout, exitCode } = await curl(vm, ['-m', String(timeoutSeconds), `http://${INTERNET.server}/whoami`]);
      return exitCode === 0 ? stdout.trim() : undefined;
    },
    udpWhoami: async (vm) => {
      const { stdout, exitCode } = await lab.exec(
        vm,
        ['node', path.join(repoRoot(), 'dist/lab/bin/udp-client.js'), INTERNET.server, String(INTERNET.udpPort), '2000'],
        { okExitCodes: [1] },
      );
      return exitCode === 0 ? stdout.trim() : undefined;
    },
    ping: async (vm) => (await lab.exec(vm, ['ping', '-c', '1', '-W', '2', INTERNET.server], { okExitCodes: [1] })).exitCode === 0,
    saveRuleset: async () => {
      const { stdout } = await lab.exec('nat', ['nft', 'list', 'ruleset']);
      return withoutCounterValues(stdout);
    },
    natTable: async () => {
      const { stdout, exitCode } = await lab.exec('nat', ['nft', 'list', 'table', 'ip', 'natgw'], { okExitCodes: [1] });
      return exitCode === 0 ? withoutCounterValues(stdout) : '';
    },
    waitUntil: async (what, check, timeoutMs = 15_000) => {
      await waitUntil(what, check, { timeoutMs, everyMs: 200 });
    },
  };
  return natLab;
}

const withoutCounterValues = (listing: string) =>
  listing.replace(/ packets \d+ bytes \d+/g, '').replace(/^\s*packets \d+ bytes \d+\n/gm, '');

export async function startHealthyAgent(natLab: NatLab, config: unknown = baseConfig()): Promise<LabProcess> {
  natLab.writeConfig(config);
  const agent = natLab.startAgent();
  await natLab.waitUntil('the agent is healthy', async () => (await natLab.healthz()).status === 200);
  return agent;
}
