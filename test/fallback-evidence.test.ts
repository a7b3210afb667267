// What `natgw lab fallback` prints when a VM's packet is counted on Cloud NAT while natgw was healthy: the lab run
// (test/lab-fallback.test.ts) has not counted one since the counters told sent from all, so its report is proven here.
import t from 'tap';
import { parseCloudNatCounters } from '../lab/cloud-nat.js';
import { cloudNatEvidence, cloudNatWindow } from '../lab/fallback.js';

const FROM = Date.parse('2026-12-07T10:00:00.000Z');
const save = (vmSent: number, vmReceived: number, otherReceived: number) =>
  [
    `[${vmSent}:${vmSent * 60}] -A LAB-CLOUDNAT -i vpc0 -o wan -s 10.10.0.5/32 -j ACCEPT -m comment --comment "cloud-nat 10.10.0.5 tagged-vm"`,
    `[${vmReceived}:${vmReceived * 60}] -A LAB-CLOUDNAT -i wan -o vpc0 -d 10.10.0.5/32 -j ACCEPT -m comment --comment "cloud-nat 10.10.0.5 tagged-vm"`,
    `[${otherReceived}:${otherReceived * 60}] -A LAB-CLOUDNAT -i wan -o vpc0 -d 10.10.0.6/32 -j ACCEPT -m comment --comment "cloud-nat 10.10.0.6 other-vm"`,
  ].join('\n');

t.test('a window is what the counters gained in it, per VM with packets, sent apart from all', async (t) => {
  const before = parseCloudNatCounters(save(4, 6, 2));
  const after = parseCloudNatCounters(save(5, 9, 2));
  const window = cloudNatWindow('while one NAT VM flapped', FROM, FROM + 60_000, before, after);
  t.same([...window.byVm], [['tagged-vm', { sentPackets: 1, packets: 4 }]], 'other-vm gained nothing: left out');
  t.same([...cloudNatWindow('before the failure', FROM, FROM + 1, undefined, before).byVm.keys()], ['tagged-vm', 'other-vm']);
});

t.test('a counted packet is shown with its window, the VM, the samples and the watcher lines around it', async (t) => {
  const window = cloudNatWindow(
    'while one NAT VM flapped',
    FROM,
    FROM + 60_000,
    parseCloudNatCounters(save(0, 0, 0)),
    parseCloudNatCounters(save(0, 7, 0)),
  );
  const first = FROM + 20_000;
  const capture = [
    `${(FROM - 20_000) / 1000}.000000 IP 198.51.100.10.80 > 203.0.113.50.40000: Flags [.], length 0`,
    ...Array.from(
      { length: 14 },
      (_, i) => `${(first + i * 1000) / 1000}.000000 IP 198.51.100.10.80 > 203.0.113.50.40001: Flags [F.], length 0`,
    ),
  ];
  const lines = cloudNatEvidence(
    capture,
    [cloudNatWindow('before the failure', FROM - 10_000, FROM - 1, undefined, parseCloudNatCounters(save(0, 0, 0))), window],
    [
      { at: first - 1000, path: 'natgw', ip: '203.0.113.9' },
      { at: first + 10_000, path: 'natgw', ip: '203.0.113.9' },
    ],
    [`${new Date(first - 5000).toISOString()} watcher: failed back to natgw`, `${new Date(first + 60_000).toISOString()} watcher: steady`],
  );
  t.equal(lines.filter((line) => !line.startsWith(' ')).length, 1, 'only the window with packets is shown (the first had none)');
  t.match(
    lines[0],
    /^while one NAT VM flapped \(10:00:00\.000-10:01:00\.000 UTC\): by VM \(sent\/all\) tagged-vm 0\/7; 14 packets on Cloud NAT's IP:$/,
  );
  t.equal(lines.filter((line) => /^ {2}\d\d:\d\d:\d\d\.\d{3} IP /.test(line)).length, 12, 'at most 12 packets');
  t.match(lines[1], /^ {2}10:00:20\.000 IP 198\.51\.100\.10\.80 > 203\.0\.113\.50\.40001: Flags \[F\.\]/, 'the first, with its time');
  t.same(
    lines.filter((line) => line.startsWith('    ')),
    ['    10:00:19.000 natgw 203.0.113.9', `    ${new Date(first - 5000).toISOString()} watcher: failed back to natgw`],
    'the samples within 3 s and the watcher lines within 10 s of the first packet, no others',
  );
});
