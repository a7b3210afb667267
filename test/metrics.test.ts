import t from 'tap';
import { MonotonicCounters } from '../agent/collectors/collector.js';
import { parseNftCounters } from '../agent/nft-state.js';

const COUNTERS = JSON.stringify({
  nftables: [
    { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
    { counter: { family: 'ip', name: 'egress', table: 'natgw', handle: 4, packets: 8, bytes: 523 } },
    { counter: { family: 'ip', name: 'ingress', table: 'natgw', handle: 5, packets: 6, bytes: 477 } },
    { counter: { family: 'ip', name: 'drop_source_not_allowed', table: 'natgw', handle: 6, packets: 2, bytes: 120 } },
  ],
});

t.test('named counters are read from nft -j list counters', async (t) => {
  const counters = parseNftCounters(COUNTERS);
  t.same(counters.get('egress'), { packets: 8, bytes: 523 });
  t.same(counters.get('ingress'), { packets: 6, bytes: 477 });
  t.same(counters.get('drop_source_not_allowed'), { packets: 2, bytes: 120 });
  t.equal(counters.size, 3);
  t.equal(parseNftCounters('').size, 0, 'no table, no counters');
});

t.test('counters never go backwards when a repair resets the kernel counters', async (t) => {
  const counters = new MonotonicCounters();
  t.equal(counters.observe('x', 10), 10);
  t.equal(counters.observe('x', 25), 25);
  t.equal(counters.observe('x', 3), 28, 'reset folded into the base');
  t.equal(counters.observe('x', 5), 30);
  t.equal(counters.observe('y', 1), 1, 'ids are independent');
});
