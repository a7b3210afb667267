// The lab's GCE emulation decided without root: which next hops a VM's default route gets, and the firewall text a VM
// is given. The lab tests prove the same on the kernel; these pin the decisions themselves.
import t from 'tap';
import { externalIpRules, renderAntiSpoofing, renderVmFirewall } from '../lab/fabric.js';
import { HEALTH_PROBER, probeSourceFor, type LabHealthCheck, type LabLoadBalancedRoute, type LabRoute, type LabVm } from '../lab/model.js';
import { defaultRouteArgs, defaultRouteHops } from '../lab/routing.js';
import {
  activeBackends,
  backendForFlow,
  backendMark,
  flowsKeptOn,
  healthCheckTargets,
  renderExternalLoadBalancing,
  renderNextHopSteering,
  renderProbePaths,
} from '../lab/load-balancing.js';

const CHECK: LabHealthCheck = {
  port: 9731,
  path: '/healthz',
  intervalSeconds: 2,
  timeoutSeconds: 2,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
};
const client = { ip: '10.10.0.20', tags: ['natgw-client'] };
const none = new Map<string, Set<string>>();

const vm = (name: string, ip: string, canIpForward?: boolean): LabVm => ({
  name,
  ip,
  namespace: name,
  root: '/tmp',
  fabricPort: `p-${name}`,
  ...(canIpForward === undefined ? {} : { canIpForward }),
});

t.test('next-hop-instance routes: tags select, the lowest priority wins, equal priorities share, never oneself', async (t) => {
  const routes: LabRoute[] = [
    { name: 'nat', priority: 800, tags: ['natgw-client'], nextHopIp: '10.10.0.5' },
    { name: 'other', priority: 900, tags: [], nextHopIp: '10.10.0.6' },
  ];
  t.same(defaultRouteHops(client, routes, [], none), ['10.10.0.5']);
  t.same(defaultRouteHops({ ip: '10.10.0.30', tags: [] }, routes, [], none), ['10.10.0.6'], 'an untagged route applies to every VM');
  t.same(
    defaultRouteHops({ ip: '10.10.0.5', tags: ['natgw-client'] }, routes, [], none),
    ['10.10.0.6'],
    'a NAT VM never routes through itself',
  );
  t.same(defaultRouteHops(client, [...routes, { name: 'ecmp', priority: 800, tags: ['natgw-client'], nextHopIp: '10.10.0.4' }], [], none), [
    '10.10.0.4',
    '10.10.0.5',
  ]);
  t.same(
    defaultRouteHops(client, [{ name: 'weak', priority: 1000, tags: [], nextHopIp: '10.10.0.6' }], [], none),
    [],
    'priority 1000 does not beat the internet route',
  );
  t.same(defaultRouteArgs([]), ['route', 'replace', 'default', 'via', '10.10.0.1']);
  t.same(defaultRouteArgs(['10.10.0.5']), ['route', 'replace', 'default', 'via', '10.10.0.5']);
  t.same(defaultRouteArgs(['10.10.0.4', '10.10.0.5']), [
    'route',
    'replace',
    'default',
    'nexthop',
    'via',
    '10.10.0.4',
    'nexthop',
    'via',
    '10.10.0.5',
  ]);
});

t.test('load-balanced routes: healthy backends only, all of them when none is healthy, unrouted ones ignored', async (t) => {
  const lb: LabLoadBalancedRoute = {
    name: 'ilb',
    priority: 800,
    tags: ['natgw-client'],
    backends: ['10.10.0.7', '10.10.0.8'],
    healthCheck: CHECK,
  };
  t.same(defaultRouteHops(client, [], [lb], new Map([['ilb', new Set(['10.10.0.8'])]])), ['10.10.0.8']);
  t.same(defaultRouteHops(client, [], [lb], none), ['10.10.0.7', '10.10.0.8'], 'GCE does not fall back to the internet gateway');
  t.same(defaultRouteHops(client, [], [{ ...lb, routed: false }], none), []);
  t.same(
    defaultRouteHops({ ip: '10.10.0.7', tags: ['natgw-client'] }, [], [lb], none),
    [],
    'a backend does not route through its own load balancer',
  );
});

t.test('a VM’s firewall: rules for its tags by priority, health-check ranges probed from the gateway, implied deny', async (t) => {
  const text = renderVmFirewall(
    [
      {
        name: 'health',
        priority: 1000,
        sourceRanges: ['35.191.0.0/16', '130.211.0.0/22'],
        targetTags: ['nat'],
        allowed: [{ protocol: 'tcp', ports: ['9731'] }],
      },
      { name: 'clients', priority: 900, sourceRanges: ['10.10.0.0/24'], targetTags: ['nat'], allowed: [{ protocol: 'all', ports: [] }] },
      { name: 'elsewhere', priority: 100, sourceRanges: ['0.0.0.0/0'], targetTags: ['web'], allowed: [{ protocol: 'tcp', ports: ['80'] }] },
    ],
    ['nat'],
  );
  const accepts = text.split('\n').filter((line) => line.includes(' accept comment'));
  t.same(accepts.slice(0, 2), [
    '    ip saddr { 10.10.0.0/24 } accept comment "clients"',
    '    ip saddr { 35.191.0.0/16, 130.211.0.0/22 } meta l4proto tcp th dport { 9731 } accept comment "health"',
  ]);
  t.notMatch(text, /elsewhere/, 'a rule for other tags does not apply');
  t.match(text, /counter drop\n {2}\}\n {2}chain ingress_forwarded/, 'implied deny ends each chain');
  t.match(
    renderVmFirewall([], []),
    /ct state established,related accept\n.*\n {4}counter drop/,
    'with no rules only replies and the metadata server get in',
  );
});

t.test('the fabric: anti-spoofing for VMs without canIpForward, 1:1 NAT rules that add and remove symmetrically', async (t) => {
  const text = renderAntiSpoofing([vm('app', '10.10.0.20'), vm('nat', '10.10.0.5', true)]);
  t.match(text, /iifname "p-app" ether type ip ip saddr != 10\.10\.0\.20 counter drop/);
  t.notMatch(text, /p-nat/, 'a VM with canIpForward may send and receive for other addresses');
  const added = externalIpRules('-A', '10.10.0.5', '203.0.113.5');
  const removed = externalIpRules('-D', '10.10.0.5', '203.0.113.5');
  t.same(
    removed,
    added.map((args) => args.map((arg) => (arg === '-A' ? '-D' : arg))),
  );
  t.ok(added.some((args) => args.join(' ').includes('-j SNAT --to-source 203.0.113.5')));
});

t.test('failover policy: primaries while one is healthy, then healthy backups, last resort the primaries or nothing', async (t) => {
  const lb = {
    backends: ['10.10.0.2', '10.10.0.3'],
    failoverBackends: ['10.10.0.3'],
    failoverPolicy: { failoverRatio: 0, dropTrafficIfUnhealthy: false, disableConnectionDrainOnFailover: true },
  };
  t.same(activeBackends(lb, new Set(['10.10.0.2', '10.10.0.3'])), ['10.10.0.2'], 'the backup idles while the primary is healthy');
  t.same(activeBackends(lb, new Set(['10.10.0.3'])), ['10.10.0.3'], 'primary unhealthy: the backup');
  t.same(activeBackends(lb, new Set()), ['10.10.0.2'], 'nobody healthy: the primaries as a last resort');
  t.same(activeBackends({ ...lb, failoverPolicy: { ...lb.failoverPolicy, dropTrafficIfUnhealthy: true } }, new Set()), []);
  const three = { ...lb, backends: ['10.10.0.2', '10.10.0.4', '10.10.0.3'], failoverPolicy: { failoverRatio: 0.6 } };
  t.same(activeBackends(three, new Set(['10.10.0.2', '10.10.0.3'])), ['10.10.0.3'], 'below failoverRatio the backups take over');
  t.same(activeBackends({ backends: ['10.10.0.2', '10.10.0.3'] }, new Set(['10.10.0.3'])), ['10.10.0.3'], 'no policy: every healthy one');
  t.same(activeBackends({ backends: ['10.10.0.2', '10.10.0.3'] }, new Set()), ['10.10.0.2', '10.10.0.3'], 'no policy, none healthy: all');
});

t.test('connection persistence: what stays on a backend that no longer gets new connections', async (t) => {
  const lb = { backends: ['10.10.0.2', '10.10.0.3'], failoverPolicy: { disableConnectionDrainOnFailover: true } };
  const deadA = { healthy: new Set(['10.10.0.3']), active: ['10.10.0.3'] };
  t.equal(flowsKeptOn(lb, '10.10.0.2', deadA.healthy, deadA.active), 'tcp', 'DEFAULT_FOR_PROTOCOL keeps TCP on an unhealthy backend');
  t.equal(flowsKeptOn({ ...lb, connectionPersistence: 'NEVER_PERSIST' }, '10.10.0.2', deadA.healthy, deadA.active), 'none');
  t.equal(flowsKeptOn({ ...lb, connectionPersistence: 'ALWAYS_PERSIST' }, '10.10.0.2', deadA.healthy, deadA.active), 'all');
  t.equal(flowsKeptOn(lb, '10.10.0.3', deadA.healthy, deadA.active), 'all', 'an active backend keeps its flows');
  const failback = { healthy: new Set(['10.10.0.2', '10.10.0.3']), active: ['10.10.0.2'] };
  t.equal(flowsKeptOn(lb, '10.10.0.3', failback.healthy, failback.active), 'none', 'no draining on failover when disabled');
  t.equal(flowsKeptOn({ backends: lb.backends, failoverPolicy: {} }, '10.10.0.3', failback.healthy, failback.active), 'all');
  t.equal(flowsKeptOn(lb, '10.10.0.9', deadA.healthy, deadA.active), 'none', 'a VM that is no backend keeps nothing');
});

t.test('the fabric steers an external forwarding rule per flow: kept flows first, then a 5-tuple hash over the active', async (t) => {
  const lb: LabLoadBalancedRoute = {
    name: 'nlb',
    priority: 1000,
    tags: [],
    backends: ['10.10.0.2', '10.10.0.3'],
    healthCheck: CHECK,
    scheme: 'EXTERNAL',
    address: '203.0.113.100',
  };
  t.equal(backendMark('10.10.0.2'), 0x0a0a0002);
  const both = renderExternalLoadBalancing([
    { lb: { ...lb, address: '203.0.113.100' }, healthy: new Set(lb.backends), active: lb.backends },
  ]);
  t.match(both, /iifname "wan" ip daddr 203\.0\.113\.100 jump lb_0/);
  t.match(both, /ct mark \{ 0x0a0a0002, 0x0a0a0003 \} meta mark set ct mark accept/);
  t.match(both, /jhash ip saddr \. ip daddr \. meta l4proto \. th sport \. th dport mod 2 .* map \{ 0 : 0x0a0a0002, 1 : 0x0a0a0003 \}/);
  const moved = renderExternalLoadBalancing([
    { lb: { ...lb, address: '203.0.113.100' }, healthy: new Set(['10.10.0.3']), active: ['10.10.0.3'] },
  ]);
  t.match(moved, /meta l4proto tcp ct mark \{ 0x0a0a0002 \} meta mark set ct mark accept/, 'TCP stays on the unhealthy backend');
  t.match(moved, /meta mark set 0x0a0a0003\n\s+ct mark set meta mark/);
  const never = renderExternalLoadBalancing([
    {
      lb: { ...lb, address: '203.0.113.100', connectionPersistence: 'NEVER_PERSIST' },
      healthy: new Set(['10.10.0.3']),
      active: ['10.10.0.3'],
    },
  ]);
  t.notMatch(never, /0x0a0a0002/, 'NEVER_PERSIST: nothing stays on it');
  const dropped = renderExternalLoadBalancing([{ lb: { ...lb, address: '203.0.113.100' }, healthy: new Set(), active: [] }]);
  t.match(dropped, /counter drop/);
  t.same(
    defaultRouteHops(
      client,
      [],
      [{ ...lb, scheme: 'INTERNAL', priority: 800, tags: ['natgw-client'], failoverBackends: ['10.10.0.3'], failoverPolicy: {} }],
      new Map([['nlb', new Set(lb.backends)]]),
    ),
    ['10.10.0.2'],
    'an internal load balancer as next hop with a failover policy routes to the primary only',
  );
  t.same(defaultRouteHops(client, [], [lb], none), [], 'an external load balancer is no next hop');
  t.same(
    defaultRouteArgs(
      defaultRouteHops(
        client,
        [],
        [{ ...lb, scheme: 'INTERNAL', priority: 800, tags: ['natgw-client'], failoverPolicy: { dropTrafficIfUnhealthy: true } }],
        none,
      ),
    ),
    ['route', 'replace', 'blackhole', 'default'],
  );
});

t.test('a load balancer IP: only its backends send from it; the VM firewall admits only replies its own NIC saw, or a rule', async (t) => {
  const spoofing = renderAntiSpoofing(
    [vm('nat-a', '10.10.0.2', true), vm('nat-b', '10.10.0.3'), vm('other', '10.10.0.9', true)],
    [{ address: '203.0.113.100', backends: ['10.10.0.2', '10.10.0.3'] }],
  );
  t.match(
    spoofing,
    /ip saddr 203\.0\.113\.100 iifname != \{ "p-nat-a", "p-nat-b" \} counter drop/,
    'a canIpForward VM that is no backend cannot',
  );
  t.match(
    spoofing,
    /iifname "p-nat-b" ether type ip ip saddr != \{ 10\.10\.0\.3, 203\.0\.113\.100 \} counter drop/,
    'a backend without canIpForward can',
  );
  const rules = [
    {
      name: 'natgw-return',
      priority: 1000,
      sourceRanges: ['0.0.0.0/0'],
      destinationRanges: ['203.0.113.100/32'],
      targetTags: ['natgw'],
      allowed: [{ protocol: 'tcp', ports: [] }],
    },
  ];
  const firewall = renderVmFirewall(rules, ['natgw'], ['203.0.113.100']);
  t.match(
    firewall,
    /update @lb_flows \{ ip daddr \. ip saddr \. meta l4proto \. th dport \. th sport \}/,
    'what the NIC sends is remembered',
  );
  t.match(firewall, /th sport \. th dport @lb_flows meta mark set meta mark \| 0x4c420000 accept/, 'its replies pass');
  t.match(
    firewall,
    /ip daddr \{ 203\.0\.113\.100\/32 \} meta l4proto tcp meta mark set meta mark \| 0x4c420000 accept comment "natgw-return"/,
  );
  t.notMatch(renderVmFirewall(rules, ['natgw']), /lb_ingress/, 'a VM without a load balancer IP has no such chain');
});

t.test(
  "an internal load balancer as next hop steers the VM's own and forwarded flows, never the subnet or the metadata server",
  async (t) => {
    const lb: LabLoadBalancedRoute = { name: 'ilb', priority: 800, tags: [], backends: ['10.10.0.2', '10.10.0.3'], healthCheck: CHECK };
    const text = renderNextHopSteering(lb, new Set(['10.10.0.3']), ['10.10.0.3'], ['10.10.0.0/24', '169.254.169.254']);
    t.match(text, /type route hook output priority mangle/);
    t.match(text, /type filter hook prerouting priority mangle/);
    t.match(
      text,
      /ip daddr \{ 10\.10\.0\.0\/24, 169\.254\.169\.254 \} return\n\s+ct mark \{ 0x0a0a0003 \} meta mark set ct mark accept\n\s+meta l4proto tcp ct mark \{ 0x0a0a0002 \}/,
    );
  },
);

t.test("health probes to a forwarding rule's IP: each backend's probes leave from its own Google address and reach it alone", async (t) => {
  t.equal(
    renderProbePaths(['10.10.0.3', '10.10.0.2', '10.10.0.3']),
    [
      'address replace 35.191.128.2/32 dev lo',
      `route replace default via 10.10.0.2 dev vpc0 table ${backendMark('10.10.0.2')}`,
      `rule add from 35.191.128.2 lookup ${backendMark('10.10.0.2')} pref 900`,
      'address replace 35.191.128.3/32 dev lo',
      `route replace default via 10.10.0.3 dev vpc0 table ${backendMark('10.10.0.3')}`,
      `rule add from 35.191.128.3 lookup ${backendMark('10.10.0.3')} pref 900`,
      '',
    ].join('\n'),
    'one path per backend, whatever the order or repetition',
  );
  const backends = Array.from({ length: 253 }, (_, index) => `10.10.0.${index + 2}`);
  const sources = backends.map(probeSourceFor);
  t.equal(new Set(sources).size, backends.length, 'no two backends of the subnet share a prober address');
  t.ok(
    sources.every((source) => /^35\.191\.\d+\.\d+$/.test(source) && source !== HEALTH_PROBER),
    "all in Google's 35.191.0.0/16, none the autohealing prober's",
  );
});

t.test("load balancers probe their forwarding rule's IP from each backend's prober; autohealing probes the VM's own", async (t) => {
  const routes: LabLoadBalancedRoute[] = [
    { name: 'ilb', priority: 800, tags: [], backends: ['10.10.0.2', '10.10.0.3'], healthCheck: CHECK, address: '10.10.0.200' },
    { name: 'no-rule', priority: 800, tags: [], backends: ['10.10.0.4'], healthCheck: CHECK },
  ];
  const targets = healthCheckTargets(
    routes,
    [{ group: 'autoheal:mig', backends: ['10.10.0.2'], healthCheck: CHECK }],
    (group, ip) => group === 'ilb' && ip === '10.10.0.3',
  );
  t.same(
    targets.map(({ group, ip, address, source, initiallyHealthy }) => ({ group, ip, address, source, initiallyHealthy })),
    [
      { group: 'ilb', ip: '10.10.0.2', address: '10.10.0.200', source: probeSourceFor('10.10.0.2'), initiallyHealthy: false },
      { group: 'ilb', ip: '10.10.0.3', address: '10.10.0.200', source: probeSourceFor('10.10.0.3'), initiallyHealthy: true },
      { group: 'no-rule', ip: '10.10.0.4', address: undefined, source: undefined, initiallyHealthy: false },
      { group: 'autoheal:mig', ip: '10.10.0.2', address: undefined, source: undefined, initiallyHealthy: false },
    ],
  );
  t.same(
    { intervalMs: targets[0]!.intervalMs, timeoutMs: targets[0]!.timeoutMs, port: targets[0]!.port, path: targets[0]!.path },
    { intervalMs: 2000, timeoutMs: 2000, port: 9731, path: '/healthz' },
    "the backend service's check, in milliseconds",
  );
});

t.test('backendForFlow computes the backend the kernel hashes a flow to', async (t) => {
  // Taken from the kernel (6.18): SYNs from 10.10.0.7:40000..40063 to 198.51.100.10:80 through flowSteering's jhash rule
  // `mod 2 seed 0x6c6162`, the source ports whose hash was 1. The lab test then places real flows with it.
  const hashedToOne = [
    40000, 40001, 40005, 40009, 40010, 40012, 40013, 40014, 40017, 40019, 40023, 40024, 40026, 40028, 40029, 40030, 40031, 40034, 40035,
    40037, 40038, 40041, 40042, 40043, 40046, 40047, 40055, 40058, 40059, 40060, 40061, 40063,
  ];
  const computed: number[] = [];
  for (let sourcePort = 40000; sourcePort < 40064; sourcePort++) {
    const flow = { protocol: 'tcp', source: '10.10.0.7', sourcePort, destination: '198.51.100.10', destinationPort: 80 } as const;
    if (backendForFlow(['slot-0', 'slot-1'], flow) === 'slot-1') computed.push(sourcePort);
  }
  t.same(computed, hashedToOne);
  t.equal(
    backendForFlow(['10.10.0.3'], {
      protocol: 'udp',
      source: '10.10.0.7',
      sourcePort: 1,
      destination: '198.51.100.10',
      destinationPort: 2,
    }),
    '10.10.0.3',
    'one active backend takes every flow',
  );
  t.equal(
    backendForFlow([], { protocol: 'udp', source: '10.10.0.7', sourcePort: 1, destination: '198.51.100.10', destinationPort: 2 }),
    undefined,
  );
});
