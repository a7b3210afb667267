// The lab's Cloud NAT (lab/cloud-nat.ts) decided without root: which VMs a router NAT covers, each VM's own port block
// (kept while it lives, the lowest free one for a newcomer), the fabric's rules as text (golden), and the counters read
// back from iptables-save.
import t from 'tap';
import { allocateCloudNatPorts, natCoversSubnet, parseCloudNatCounters, renderCloudNat } from '../lab/cloud-nat.js';
import { renderFabricRules } from '../lab/fabric.js';
import type { LabLoadBalancedRoute } from '../lab/model.js';
import { defaultRouteHops } from '../lab/routing.js';

const vms = [
  { name: 'app-2', ip: '10.10.0.21' },
  { name: 'app-1', ip: '10.10.0.20' },
];

t.test('each VM gets its own block of minPortsPerVm ports from 1024, by address', async (t) => {
  t.same(allocateCloudNatPorts(vms, 64, new Map()), [
    { name: 'app-1', ip: '10.10.0.20', ports: { first: 1024, last: 1087 } },
    { name: 'app-2', ip: '10.10.0.21', ports: { first: 1088, last: 1151 } },
  ]);
});

t.test('a VM keeps its block when others come and go; a newcomer takes the lowest free one', async (t) => {
  const first = allocateCloudNatPorts(vms, 64, new Map());
  const previous = new Map(first.map((vm) => [vm.ip, vm.ports!.first]));
  const later = allocateCloudNatPorts(
    [
      { name: 'app-0', ip: '10.10.0.5' },
      { name: 'app-2', ip: '10.10.0.21' },
    ],
    64,
    previous,
  );
  t.same(later, [
    { name: 'app-0', ip: '10.10.0.5', ports: { first: 1024, last: 1087 } },
    { name: 'app-2', ip: '10.10.0.21', ports: { first: 1088, last: 1151 } },
  ]);
});

t.test('when the NAT IP has no block left, the VM gets none (GCE: OUT_OF_RESOURCES)', async (t) => {
  const many = Array.from({ length: 3 }, (_, index) => ({ name: `vm-${index}`, ip: `10.10.0.${10 + index}` }));
  const allocated = allocateCloudNatPorts(many, 32768, new Map());
  t.same(
    allocated.map((vm) => vm.ports),
    [undefined, undefined, undefined].map((_, index) => (index === 0 ? { first: 1024, last: 33791 } : undefined)),
  );
});

t.test('a router NAT covers every subnet, or only the ones it lists', async (t) => {
  const subnet = 'https://www.googleapis.com/compute/v1/projects/p/regions/r/subnetworks/apps';
  t.ok(natCoversSubnet({ sourceSubnetworkIpRangesToNat: 'ALL_SUBNETWORKS_ALL_IP_RANGES' }, subnet));
  t.ok(natCoversSubnet({}, subnet), "GCE's default");
  t.ok(
    natCoversSubnet(
      { sourceSubnetworkIpRangesToNat: 'LIST_OF_SUBNETWORKS', subnetworks: [{ name: 'projects/p/regions/r/subnetworks/apps' }] },
      subnet,
    ),
  );
  t.notOk(
    natCoversSubnet(
      { sourceSubnetworkIpRangesToNat: 'LIST_OF_SUBNETWORKS', subnetworks: [{ name: 'projects/p/regions/r/subnetworks/db' }] },
      subnet,
    ),
  );
});

t.test('the fabric rules and the Cloud NAT rules (golden)', async (t) => {
  t.matchSnapshot(renderFabricRules(), 'the fabric: Cloud NAT jumped before the conntrack shortcut and the no-external-IP drop');
  t.matchSnapshot(
    renderCloudNat([
      { name: 'natgw-router/natgw-fallback', natIp: '203.0.113.77', minPortsPerVm: 64, vms: allocateCloudNatPorts(vms, 64, new Map()) },
    ]),
    'two covered VMs',
  );
  t.equal(renderCloudNat([]), '*filter\n-F LAB-CLOUDNAT\nCOMMIT\n*nat\n-F LAB-CLOUDNAT-SNAT\nCOMMIT\n', 'no NAT: empty chains');
});

t.test('counters: what went through Cloud NAT, per VM and in total, from iptables-save -c', async (t) => {
  const save = [
    '*filter',
    ':LAB-CLOUDNAT - [0:0]',
    '[12:960] -A FORWARD -j LAB-CLOUDNAT',
    '[5:300] -A LAB-CLOUDNAT -s 10.10.0.20/32 -i vpc0 -o wan -m comment --comment "cloud-nat r/n app-1" -j ACCEPT',
    '[4:600] -A LAB-CLOUDNAT -d 10.10.0.20/32 -i wan -o vpc0 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "cloud-nat r/n app-1" -j ACCEPT',
    '[0:0] -A LAB-CLOUDNAT -s 10.10.0.21/32 -i vpc0 -o wan -m comment --comment "cloud-nat r/n app-2" -j ACCEPT',
    'COMMIT',
  ].join('\n');
  const counters = parseCloudNatCounters(save);
  t.equal(counters.packets, 9);
  t.equal(counters.bytes, 900);
  t.equal(counters.sentPackets, 5, 'sent by the VMs: the outbound rule alone');
  t.same(counters.byVm.get('app-1'), { packets: 9, bytes: 900, sentPackets: 5 });
  t.same(counters.byVm.get('app-2'), { packets: 0, bytes: 0, sentPackets: 0 });
});

t.test('several routes through one internal load balancer: each applies with its own tags and priority', async (t) => {
  const lb: LabLoadBalancedRoute = {
    name: 'gw-fr',
    priority: 800,
    tags: ['client'],
    backends: ['10.10.0.5', '10.10.0.6'],
    healthCheck: { port: 9731, path: '/healthz', intervalSeconds: 1, timeoutSeconds: 1, healthyThreshold: 1, unhealthyThreshold: 1 },
    viaRoutes: [
      { priority: 800, tags: ['gw-probe'] },
      { priority: 65535, tags: ['client'] },
    ],
  };
  const healthy = new Map([['gw-fr', new Set(['10.10.0.5', '10.10.0.6'])]]);
  t.same(
    defaultRouteHops({ ip: '10.10.0.30', tags: ['gw-probe'] }, [], [lb], healthy),
    ['10.10.0.5', '10.10.0.6'],
    'the prober goes through natgw',
  );
  t.same(defaultRouteHops({ ip: '10.10.0.20', tags: ['client'] }, [], [lb], healthy), [], 'a client follows the default route: Cloud NAT');
  t.same(
    defaultRouteHops(
      { ip: '10.10.0.20', tags: ['client'] },
      [],
      [{ ...lb, viaRoutes: [...lb.viaRoutes!, { priority: 800, tags: ['client'] }] }],
      healthy,
    ),
    ['10.10.0.5', '10.10.0.6'],
    "with natgw's route back, the client goes through natgw",
  );
});
