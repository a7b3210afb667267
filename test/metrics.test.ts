import t from 'tap';
import { MonotonicCounters } from '../agent/collectors/collector.js';
import { compareShapes, parseNftCounters, parseNftJson, tableShape } from '../agent/nft-state.js';

const rule = (comment: string, expr: object[]) => ({ rule: { family: 'ip', table: 'natgw', chain: 'forward', handle: 9, comment, expr } });
const TERSE_TABLE = JSON.stringify({
  nftables: [
    { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
    { table: { family: 'ip', name: 'natgw', handle: 1 } },
    { counter: { family: 'ip', name: 'translated', table: 'natgw', handle: 4, packets: 5, bytes: 300 } },
    { counter: { family: 'ip', name: 'drop_source_not_allowed', table: 'natgw', handle: 6, packets: 2, bytes: 120 } },
    rule('established-ingress', [{ match: {} }, { counter: { packets: 6, bytes: 477 } }, { accept: null }]),
    rule('established-egress', [{ match: {} }, { counter: { packets: 8, bytes: 523 } }, { accept: null }]),
    rule('unreplied', [{ match: {} }, { counter: { packets: 3, bytes: 180 } }, { accept: null }]),
    rule('admit-new', [{ mangle: {} }, { counter: { packets: 2, bytes: 120 } }, { counter: 'translated' }, { accept: null }]),
    rule('masquerade', [{ counter: 'translated' }, { masquerade: null }]),
    rule('not-counted-by-us', [{ counter: { packets: 1000, bytes: 60000 } }]),
  ],
});

t.test("counters: named ones by name, the hot-path rules' anonymous ones added up by comment", async (t) => {
  const counters = parseNftCounters(TERSE_TABLE);
  t.same(counters.get('ingress'), { packets: 6, bytes: 477 });
  t.same(counters.get('egress'), { packets: 8 + 3 + 2, bytes: 523 + 180 + 120 }, 'established, unreplied and first packets');
  t.same(counters.get('new'), { packets: 2, bytes: 120 }, "a counting rule's reference to a named counter adds nothing");
  t.same(counters.get('translated'), { packets: 5, bytes: 300 }, 'a named counter is read once, whichever rules name it');
  t.same(counters.get('drop_source_not_allowed'), { packets: 2, bytes: 120 });
  t.same([...counters.keys()].sort(), ['drop_source_not_allowed', 'egress', 'ingress', 'new', 'translated']);
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

t.test('drift: an anonymous counter that counted is not a change; a counter statement that changed is', async (t) => {
  const table = (...statements: object[]) =>
    tableShape(parseNftJson(JSON.stringify({ nftables: [{ table: { family: 'ip', name: 'natgw' } }, rule('admit-new', statements)] })))!;
  const counted = (packets: number) => ({ counter: { packets, bytes: packets * 60 } });
  const named = { counter: { map: { key: { ct: { key: 'direction' } }, data: { set: [['original', 'egress']] } } } };
  t.same(compareShapes(table(counted(0), { accept: null }), table(counted(1234), { accept: null })), []);
  t.not(
    compareShapes(table(counted(0), { accept: null }), table(named, { accept: null })).length,
    0,
    'an anonymous counter is not a map of named ones',
  );
});
