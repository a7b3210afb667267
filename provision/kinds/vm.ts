// A VM of a managed instance group: created, recreated and scaled away through its group by the HA executors, and
// deleted with its group on destroy, so it has no delete of its own here.
import type { KindModule } from './kind.js';

export const vm: KindModule<'vm'> = {
  deleting: (_, change) => `deleting VM ${change.name} with its group`,
  remove: undefined,
  gcloudDelete: () => [],
};
