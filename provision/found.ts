// The one reader status and destroy share: everything a gateway of this name may own in any mode, read once (by the
// names natgw gives and the labels and description markers it sets); each mode reports or deletes from it.
import type { CallContext } from './gcp/call.js';
import { observedSingle, regionZones } from './gateway.js';
import { haNames, observeHa, type ObservedHa } from './ha/gateway.js';
import { observeStateful } from './ha/stateful.js';
import { observeFallback, type ObservedFallback } from './fallback.js';
import type { Observed } from './model.js';
import type { Progress } from './progress.js';

/** What status and destroy read before they know the mode. */
export interface Found {
  zones: string[];
  /** HA's resources, stateful HA's among them, and single-mode ones by their names. */
  ha: ObservedHa;
  /** The --fallback resources of any mode: the region's routers and the probe route. */
  fallback: ObservedFallback;
  /** The same reads as single mode sees them; throws as single mode's own read does (its VM in several zones). */
  single(): Observed;
}

export async function readGateway(ctx: CallContext, gateway: string, region: string, progress: Progress | undefined): Promise<Found> {
  const zones = await regionZones(ctx, region);
  const read = async () => {
    const [ha, stateful, fallback] = await Promise.all([
      observeHa(ctx, gateway, region, zones),
      observeStateful(ctx, gateway, region),
      observeFallback(ctx, gateway, region),
    ]);
    return { ha: { ...ha, stateful }, fallback };
  };
  const { ha, fallback } = await (progress === undefined ? read() : progress.run(`reading gateway ${gateway}`, read));
  return {
    zones,
    ha,
    fallback,
    single: () =>
      observedSingle(haNames(gateway), {
        address: ha.singleAddress,
        firewalls: ha.firewalls,
        instances: ha.singleInstances ?? [],
        route: ha.route,
      }),
  };
}
