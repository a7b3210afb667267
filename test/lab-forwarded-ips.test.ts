// Load-balancer health probes as GCE sends them: addressed to the forwarding rule's IP (the ILB's for next-hop
// backends, the NLB's shared IP), from Google's probe range, each backend's probes delivered to that backend alone. A
// real guest answers them only through the local route its own guest agent adds for each forwarded IP: a guest whose
// guest agent does not add it (GCE's `disable-address-manager` metadata) is never healthy, as on GCE, although it
// answers on its own address.
import t from 'tap';
import { waitUntil } from '../common/wait.js';
import { API_BASE, type Json } from '../lab/compute-api/index.js';
import { LabCloud, LAB_PROJECT, LAB_REGION } from '../lab/gce.js';
import { HEALTH_PROBER } from '../lab/lab.js';

const ILB_IP = '10.10.0.200';
const NLB_IP = '203.0.113.100';
const PORT = 9731;
const TAG = 'natgw';
const REGION = `regions/${LAB_REGION}`;
const ROUTED = { name: 'nat-a', ip: '10.10.0.2', zone: `${LAB_REGION}-a`, mig: 'mig-a' } as const;
const UNROUTED = { name: 'nat-b', ip: '10.10.0.3', zone: `${LAB_REGION}-b`, mig: 'mig-b' } as const;
const LOAD_BALANCERS = [
  { rule: 'ilb-fr', service: 'ilb', scheme: 'INTERNAL', address: ILB_IP },
  { rule: 'nlb-fr', service: 'nlb', scheme: 'EXTERNAL', address: NLB_IP },
] as const;

const link = (scope: string, collection: string, name: string) => `${API_BASE}projects/${LAB_PROJECT}/${scope}/${collection}/${name}`;

/** Answers every HTTP request on every address, as a backend's health endpoint would. */
const STARTUP_SCRIPT = [
  '#!/bin/bash',
  'set -eu',
  `systemd-run --unit=health-responder node -e "require('http').createServer((q, s) => s.end('ok')).listen(${PORT})"`,
  'echo health-responder-started',
  '',
].join('\n');
/** GCE's metadata switch for the guest agent's address manager: forwarded IPs (and IP aliases) are left alone. */
const NO_ADDRESS_MANAGER = { key: 'disable-address-manager', value: 'true' };

t.test("a guest answers probes to the forwarding rule's IP only through its guest agent's local route", async (t) => {
  const cloud = await LabCloud.start({ defaultFirewalls: false });
  t.teardown(() => cloud.close());
  const { lab, store } = cloud;
  const put = (scope: string, collection: Parameters<typeof store.put>[2], resource: Json) =>
    store.put(LAB_PROJECT, scope, collection, resource);
  put('global', 'firewalls', {
    name: 'health',
    direction: 'INGRESS',
    sourceRanges: ['35.191.0.0/16', '130.211.0.0/22'],
    targetTags: [TAG],
    allowed: [{ IPProtocol: 'tcp', ports: [String(PORT)] }],
  });
  for (const vm of [ROUTED, UNROUTED]) {
    put(REGION, 'instanceGroupManagers', { name: vm.mig, targetSize: 1, distributionPolicy: { zones: [{ zone: vm.zone }] } });
    put(`zones/${vm.zone}`, 'instances', {
      name: vm.name,
      status: 'RUNNING',
      canIpForward: false,
      tags: { items: [TAG] },
      metadata: {
        items: [
          { key: 'created-by', value: `projects/${LAB_PROJECT}/${REGION}/instanceGroupManagers/${vm.mig}` },
          { key: 'startup-script', value: STARTUP_SCRIPT },
          ...(vm === UNROUTED ? [NO_ADDRESS_MANAGER] : []),
        ],
      },
      networkInterfaces: [{ networkIP: vm.ip, accessConfigs: [] }],
    });
  }
  await cloud.settled();
  for (const vm of [ROUTED, UNROUTED])
    await waitUntil(
      `${vm.name}'s startup script started its health responder`,
      () => /health-responder-started/.test(store.serialOutputOf(LAB_PROJECT, vm.zone, vm.name)),
      {
        timeoutMs: 60_000,
        everyMs: 250,
        detail: () => store.serialOutputOf(LAB_PROJECT, vm.zone, vm.name).split('\n').slice(-15).join('\n'),
      },
    );
  const inGuest = async (vm: string, args: string[]) => (await lab.exec(vm, args)).stdout;
  const probeOwnAddress = async () =>
    (
      await lab.run(
        'probe nat-b at its own address',
        lab.fabric,
        ['curl', '-sS', '-m', '2', '--interface', HEALTH_PROBER, `http://${UNROUTED.ip}:${PORT}/`],
        {
          okExitCodes: [7, 28],
        },
      )
    ).stdout === 'ok';
  await waitUntil("nat-b's responder answers a prober at nat-b's own address", probeOwnAddress, { timeoutMs: 10_000, everyMs: 250 });
  t.pass('nat-b answers a prober on its own address, through its firewall: probed there (as the lab used to), it would be healthy');
  // What reaches nat-b, counted before anything else sees it: probes of each forwarding rule's IP from Google's range.
  await lab.exec(UNROUTED.name, ['nft', '-f', '-'], {
    input: [
      'table ip probes {',
      ...LOAD_BALANCERS.map((lb) => `  counter ${lb.service} {}`),
      '  chain prerouting {',
      '    type filter hook prerouting priority -500; policy accept;',
      ...LOAD_BALANCERS.map(
        (lb) => `    ip saddr 35.191.0.0/16 ip daddr ${lb.address} tcp dport ${PORT} tcp flags syn counter name ${lb.service}`,
      ),
      '  }',
      '}',
      '',
    ].join('\n'),
  });

  put(REGION, 'healthChecks', {
    name: 'hc',
    type: 'HTTP',
    httpHealthCheck: { port: PORT, requestPath: '/' },
    checkIntervalSec: 1,
    timeoutSec: 1,
    healthyThreshold: 2,
    unhealthyThreshold: 1,
  });
  for (const lb of LOAD_BALANCERS) {
    const service = put(REGION, 'backendServices', {
      name: lb.service,
      loadBalancingScheme: lb.scheme,
      protocol: 'UNSPECIFIED',
      healthChecks: [link(REGION, 'healthChecks', 'hc')],
      backends: [ROUTED, UNROUTED].map((vm) => ({ group: link(REGION, 'instanceGroups', vm.mig), balancingMode: 'CONNECTION' })),
    });
    put(REGION, 'forwardingRules', {
      name: lb.rule,
      loadBalancingScheme: lb.scheme,
      IPProtocol: 'L3_DEFAULT',
      allPorts: true,
      IPAddress: lb.address,
      backendService: service.selfLink,
    });
  }
  await cloud.settled();

  const healthy = (vm: { ip: string }) => LOAD_BALANCERS.every((lb) => lab.healthyBackendsOf(lb.rule).includes(vm.ip));
  await waitUntil('nat-a is healthy on both load balancers', () => healthy(ROUTED), {
    timeoutMs: 30_000,
    detail: () => LOAD_BALANCERS.map((lb) => `${lb.rule}: ${lab.healthyBackendsOf(lb.rule).join(', ') || 'none'}`).join('; '),
  });
  const localRoutes = (vm: string) => inGuest(vm, ['ip', 'route', 'show', 'table', 'local', 'proto', '66']);
  for (const lb of LOAD_BALANCERS)
    t.match(await localRoutes(ROUTED.name), new RegExp(`local ${lb.address.replace(/\./g, '\\.')} dev ens4`), `nat-a holds ${lb.address}`);
  t.match(
    await inGuest(ROUTED.name, ['journalctl', '--unit=google-guest-agent.service', '--output=cat', '--no-pager']),
    /Changing forwarded IPs/,
    "added by nat-a's own guest agent, from the metadata server's forwarded IPs",
  );

  const probesSeen = async () => {
    const { stdout } = await lab.exec(UNROUTED.name, ['nft', '-j', 'list', 'table', 'ip', 'probes']);
    const counters = (JSON.parse(stdout) as { nftables: { counter?: { name: string; packets: number } }[] }).nftables.flatMap((item) =>
      item.counter === undefined ? [] : [item.counter],
    );
    return LOAD_BALANCERS.map((lb) => counters.find((counter) => counter.name === lb.service)?.packets ?? 0);
  };
  // Six probes of each rule's IP span three healthy-threshold windows: enough for a backend that answers to turn healthy.
  let counts: number[] = [];
  const seen = await waitUntil(
    'nat-b received 6 probes of each forwarding rule IP',
    async () => {
      counts = await probesSeen();
      return counts.every((count) => count >= 6) ? counts : undefined;
    },
    {
      timeoutMs: 30_000,
      everyMs: 250,
      detail: () => `probes of ${LOAD_BALANCERS.map((lb) => lb.address).join(', ')}: ${counts.join(', ')}`,
    },
  );
  t.equal(await localRoutes(UNROUTED.name), '', 'nat-b holds no forwarded IP: its guest agent leaves them alone (disable-address-manager)');
  t.same(
    lab.healthEvents.filter((event) => event.ip === UNROUTED.ip && event.healthy).map((event) => event.group),
    [],
    `nat-b was never healthy on either load balancer, after ${seen.join(' and ')} probes to ${LOAD_BALANCERS.map((lb) => lb.address).join(' and ')}`,
  );

  store.update(LAB_PROJECT, `zones/${UNROUTED.zone}`, 'instances', UNROUTED.name, (instance) => {
    const metadata = instance.metadata as { items: { key: string }[] };
    metadata.items = metadata.items.filter((item) => item.key !== NO_ADDRESS_MANAGER.key);
  });
  await cloud.settled();
  // The agent applies forwarded IPs when they change, and they did not: a restart makes it look again.
  await lab.exec(UNROUTED.name, ['systemctl', 'restart', 'google-guest-agent']);
  await waitUntil('nat-b is healthy on both load balancers once its guest agent handles forwarded IPs', () => healthy(UNROUTED), {
    timeoutMs: 45_000,
    detail: () => LOAD_BALANCERS.map((lb) => `${lb.rule}: ${lab.healthyBackendsOf(lb.rule).join(', ') || 'none'}`).join('; '),
  });
  for (const lb of LOAD_BALANCERS)
    t.match(
      await localRoutes(UNROUTED.name),
      new RegExp(`local ${lb.address.replace(/\./g, '\\.')} dev ens4`),
      `nat-b now holds ${lb.address}`,
    );
  t.same(lab.programmingErrors.map(String), [], 'every health change was programmed');
});
