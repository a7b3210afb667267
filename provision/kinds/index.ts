// One module per resource kind, and the table the executors and renderers dispatch through. Typed over every Kind:
// a kind without its module does not compile.
import { address } from './address.js';
import { backendService } from './backend-service.js';
import { firewall } from './firewall.js';
import { forwardingRule } from './forwarding-rule.js';
import { healthCheck } from './health-check.js';
import { instance } from './instance.js';
import type { KindModule, KindTable, Where } from './kind.js';
import { mig } from './mig.js';
import { route } from './route.js';
import { router, routerNat } from './router.js';
import { template } from './template.js';
import { vm } from './vm.js';
import type { Kind } from '../model.js';
import type { Plan } from '../plan.js';
import type { Progress } from '../progress.js';

export type { Where } from './kind.js';

export const KINDS = {
  address,
  firewall,
  instance,
  route,
  healthCheck,
  template,
  mig,
  vm,
  backendService,
  forwardingRule,
  router,
  routerNat,
} satisfies KindTable;

// Indexing the mapped table type with a generic kind is what lets TypeScript pair a change with its own module.
const moduleOf = <K extends Kind>(kind: K): KindModule<K> => (KINDS as KindTable)[kind];

/** Deletes in plan order (the planner puts dependents first); a kind that goes with its owner is left to it. */
export async function applyDeletions(
  where: Where,
  plan: Plan,
  progress: Progress,
): Promise<{ kind: string; name: string; action: string }[]> {
  const applied: { kind: string; name: string; action: string }[] = [];
  for (const change of plan.changes) {
    const kind = moduleOf(change.kind);
    if (change.action !== 'delete' || kind.remove === undefined) continue;
    const remove = kind.remove;
    await progress.run(kind.deleting(where, change), () => remove(where, change));
    applied.push({ kind: change.kind, name: change.name, action: 'delete' });
  }
  return applied;
}

/** The gcloud commands of a destroy plan, in its order. */
export const gcloudDeleteCommands = (where: Omit<Where, 'ctx' | 'vmsOf'>, plan: Plan): string[] =>
  plan.changes.filter((change) => change.action === 'delete').flatMap((change) => moduleOf(change.kind).gcloudDelete(where, change));
