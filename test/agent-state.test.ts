// The agent's lifecycle: every event in every phase, and random walks that check what must hold whatever the order
// (a stopped agent stays stopped, a drain never serves again, a signal during an upgrade's drain wins).
import t from 'tap';
import { type AgentEvent, type AgentPhase, AgentState, IllegalTransitionError } from '../agent/agent-state.js';
import { UPGRADE_EXIT_CODE } from '../agent/upgrade.js';

const EVENTS: AgentEvent[] = [
  { type: 'waiting', reason: 'metadata server unreachable' },
  { type: 'config-applied', source: 'file' },
  { type: 'drain', reason: 'SIGTERM', exitCode: 0 },
  { type: 'drain', reason: 'upgrade', exitCode: UPGRADE_EXIT_CODE },
  { type: 'stop' },
];

/** Deterministic, so a failing walk is the same walk when run again. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

t.test('the legal transitions, and nothing else', async (t) => {
  const reached = (phases: AgentEvent[]) => {
    const state = new AgentState();
    for (const event of phases) state.send(event);
    return state;
  };
  const inPhase: Record<AgentPhase, AgentEvent[]> = {
    starting: [],
    serving: [{ type: 'config-applied', source: 'file' }],
    draining: [{ type: 'drain', reason: 'SIGTERM', exitCode: 0 }],
    stopped: [{ type: 'stop' }],
  };
  const expected: Record<AgentPhase, Record<AgentEvent['type'], AgentPhase | 'throws'>> = {
    starting: { waiting: 'starting', 'config-applied': 'serving', drain: 'draining', stop: 'stopped' },
    serving: { waiting: 'throws', 'config-applied': 'serving', drain: 'draining', stop: 'stopped' },
    draining: { waiting: 'throws', 'config-applied': 'draining', drain: 'draining', stop: 'stopped' },
    stopped: { waiting: 'throws', 'config-applied': 'throws', drain: 'throws', stop: 'throws' },
  };
  for (const [phase, path] of Object.entries(inPhase) as [AgentPhase, AgentEvent[]][]) {
    for (const event of EVENTS) {
      const state = reached(path);
      t.equal(state.phase, phase);
      const want = expected[phase][event.type];
      if (want === 'throws') {
        t.throws(() => state.send(event), IllegalTransitionError, `${event.type} while ${phase} throws`);
        t.equal(state.phase, phase, `a refused ${event.type} leaves ${phase} as it was`);
        t.notOk(state.can(event.type));
      } else {
        t.ok(state.can(event.type));
        t.equal(state.send(event), want, `${event.type} while ${phase}`);
      }
    }
  }
});

t.test('random event sequences keep the invariants', async (t) => {
  let walks = 0;
  let refused = 0;
  for (let seed = 1; seed <= 500; seed++) {
    const next = random(seed);
    const state = new AgentState();
    const seen: AgentPhase[] = [];
    state.onChange((phase) => seen.push(phase));
    let configApplied = false;
    let drained = false;
    let signalled = false;
    let firstDrainCode: number | undefined;
    let transitions = 0;
    for (let step = 0; step < 12; step++) {
      const event = EVENTS[Math.floor(next() * EVENTS.length)]!;
      const before = state.phase;
      const exitBefore = state.exitCode;
      let threw = false;
      try {
        state.send(event);
      } catch (error) {
        if (!(error instanceof IllegalTransitionError)) throw error;
        threw = true;
      }
      const walk = `seed ${seed} step ${step}: ${event.type} while ${before}`;
      if (threw) {
        refused++;
        if (state.phase !== before || state.exitCode !== exitBefore) t.fail(`${walk}: a refused event changed the state`);
        continue;
      }
      transitions++;
      if (event.type === 'config-applied') configApplied = true;
      if (event.type === 'drain') {
        drained = true;
        firstDrainCode ??= event.exitCode;
        if (event.exitCode === 0) signalled = true;
      }
      const after = state.phase;
      if (before === 'stopped') t.fail(`${walk}: left stopped`);
      if (after === 'serving' && !configApplied) t.fail(`${walk}: serving without a config`);
      if (drained && (after === 'serving' || after === 'starting')) t.fail(`${walk}: serving again after a drain`);
      if (after === 'starting' && before !== 'starting') t.fail(`${walk}: back to starting`);
      if (drained && state.exitCode !== (signalled ? 0 : firstDrainCode)) t.fail(`${walk}: exit code ${state.exitCode}`);
      if (state.running !== (after !== 'stopped')) t.fail(`${walk}: running disagrees with the phase`);
    }
    if (seen.length !== transitions) t.fail(`seed ${seed}: ${seen.length} changes reported for ${transitions} transitions`);
    walks++;
  }
  t.equal(walks, 500);
  t.ok(refused > 0, 'the walks tried illegal events too');
});

t.test('what the state remembers for health and the exit', async (t) => {
  const state = new AgentState();
  t.equal(state.waitingFor, 'no config loaded yet');
  state.send({ type: 'waiting', reason: 'metadata server unreachable' });
  t.equal(state.waitingFor, 'metadata server unreachable');
  t.equal(state.configSource, undefined);
  state.send({ type: 'config-applied', source: 'metadata attribute natgw-config' });
  t.equal(state.configSource, 'metadata attribute natgw-config');
  state.send({ type: 'drain', reason: 'upgrade', exitCode: UPGRADE_EXIT_CODE });
  t.equal(state.exitCode, UPGRADE_EXIT_CODE);
  t.equal(state.drainReason, 'upgrade');
  state.send({ type: 'drain', reason: 'SIGTERM', exitCode: 0 });
  t.equal(state.exitCode, 0, 'a signal during an upgrade drain means stop, not restart');
  t.equal(state.drainReason, 'upgrade', 'the drain is still the one that began it');
  state.send({ type: 'drain', reason: 'upgrade', exitCode: UPGRADE_EXIT_CODE });
  t.equal(state.exitCode, 0, 'and stays a stop');
});
