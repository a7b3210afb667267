// The lab's GCE emulation decided without root: which next hops a VM's default route gets, and the firewall text a VM
// is given. The lab tests prove the same on the kernel; these pin the decisions themselves.
import t from 'tap';
import { externalIpRules, renderAntiSpoofing, renderVmFirewall } from '../lab/fabric.js';
import type { LabHealthCheck, LabLoadBalancedRoute, LabRoute, LabVm } from '../lab/model.js';
import { defaultRouteArgs, defaultRouteHops } from '../lab/routing.js';

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
    '    ip saddr { 10.10.0.1/32 } meta l4proto tcp th dport { 9731 } accept comment "health"',
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
  const vm = (name: string, ip: string, canIpForward?: boolean): LabVm => ({
    name,
    ip,
    namespace: name,
    root: '/tmp',
    fabricPort: `p-${name}`,
    ...(canIpForward === undefined ? {} : { canIpForward }),
  });
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
