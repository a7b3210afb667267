// The CallContext tests hand to provision's discovery and planners against the fake Compute API: real time, retries
// cut short (the fake's faults are the tests' own), an operation wait long enough for a loaded box.
import { realClock } from '../../common/clock.js';
import type { ComputeClients } from '../../provision/gcp/client.js';
import type { CallContext } from '../../provision/gcp/call.js';

export const testCallContext = (clients: ComputeClients, project: string): CallContext => ({
  clients,
  clock: realClock,
  project,
  retryBaseMs: 1,
  maxAttempts: 3,
  operationTimeoutMs: 10_000,
});
