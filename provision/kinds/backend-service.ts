// Regional backend services: the internal load balancer (next hop), and stateful HA's external one (the NAT IP).
// Planned, created, patched and rendered here from the change's `want`: the resource itself says its scheme, its
// groups (and which is the failover) and its policies, so HA and stateful HA need no renderer of their own for it.
import type { CreatedThisRun } from '../apply-shared.js';
import { quote } from '../gcloud-shared.js';
import type { CallContext } from '../gcp/call.js';
import { deleteBackendService, insertBackendService, patchBackendService, type BackendService } from '../gcp/load-balancing.js';
import { lastSegment, ownerFromDescription, shortLink, type Kind } from '../model.js';
import { diffField, setText, type Change, type ChangeOf, type FieldDiff } from '../plan.js';
import type { Progress } from '../progress.js';
import type { KindModule } from './kind.js';

export type DesiredBackendService = BackendService & { name: string };

declare module '../plan.js' {
  interface Wants {
    backendService: DesiredBackendService;
  }
}

export const backendService: KindModule<'backendService'> = {
  deleting: (_, change) => `deleting backend service ${change.name}`,
  remove: (where, change) => deleteBackendService(where.ctx, where.region, change.name),
  gcloudDelete: (where, change) => [
    `gcloud compute backend-services delete ${change.name} --project ${quote(where.project)} --region ${where.region} --quiet`,
  ],
};

const mine = (gateway: string, description: string | null | undefined) => ownerFromDescription(description) === gateway;

const failoverText = (service: BackendService) =>
  setText((service.backends ?? []).map((backend) => `${shortLink(backend.group)}${backend.failover === true ? ' (failover)' : ''}`));

/** A load balancer's backend service: scheme and protocol are fixed once created, the rest is patched. */
export function planBackendService(
  gateway: string,
  want: DesiredBackendService,
  have: BackendService | undefined,
  changes: Change[],
  conflict: (kind: Kind, name: string, note: string) => void,
): void {
  if (have === undefined) {
    changes.push({ kind: 'backendService', name: want.name, action: 'create', diffs: [], want });
    return;
  }
  if (!mine(gateway, have.description)) {
    conflict('backendService', want.name, "a backend service with this name exists but is not marked as this gateway's");
    return;
  }
  const diffs: FieldDiff[] = [];
  diffField(diffs, 'loadBalancingScheme', String(have.loadBalancingScheme ?? ''), String(want.loadBalancingScheme));
  diffField(diffs, 'protocol', String(have.protocol ?? ''), String(want.protocol));
  diffField(diffs, 'healthChecks', setText((have.healthChecks ?? []).map(lastSegment)), setText(want.healthChecks!.map(lastSegment)));
  diffField(diffs, 'backends', failoverText(have), failoverText(want));
  diffField(
    diffs,
    'connectionDraining.drainingTimeoutSec',
    String(have.connectionDraining?.drainingTimeoutSec ?? 0),
    String(want.connectionDraining!.drainingTimeoutSec),
  );
  diffField(diffs, 'sessionAffinity', String(have.sessionAffinity ?? 'NONE'), 'NONE');
  // Only what this gateway sets is compared: --ha leaves failover and connection tracking at GCE's defaults.
  const wantFailover = want.failoverPolicy;
  if (wantFailover !== undefined && wantFailover !== null) {
    for (const key of ['failoverRatio', 'dropTrafficIfUnhealthy', 'disableConnectionDrainOnFailover'] as const)
      diffField(diffs, `failoverPolicy.${key}`, String(have.failoverPolicy?.[key] ?? '(none)'), String(wantFailover[key]));
  }
  const wantPersistence = want.connectionTrackingPolicy?.connectionPersistenceOnUnhealthyBackends;
  if (wantPersistence !== undefined && wantPersistence !== null)
    diffField(
      diffs,
      'connectionTrackingPolicy.connectionPersistenceOnUnhealthyBackends',
      String(have.connectionTrackingPolicy?.connectionPersistenceOnUnhealthyBackends ?? 'DEFAULT_FOR_PROTOCOL'),
      String(wantPersistence),
    );
  // Scheme and protocol cannot be patched; the rest can.
  if (diffs.some((diff) => diff.field === 'loadBalancingScheme' || diff.field === 'protocol'))
    conflict(
      'backendService',
      have.name ?? '',
      'its load-balancing scheme or protocol differs and cannot be changed in place; destroy and re-provision',
    );
  if (diffs.length > 0) changes.push({ kind: 'backendService', name: want.name, action: 'update', diffs, want });
  else changes.push({ kind: 'backendService', name: want.name, action: 'unchanged', diffs });
}

/** Creates or patches one backend service as planned; `what` describes it on the progress line. */
export async function applyBackendServiceChange(
  ctx: CallContext,
  region: string,
  change: ChangeOf<'backendService'> | undefined,
  progress: Progress,
  record: (change: Change) => void,
  what: string,
  created: CreatedThisRun,
): Promise<void> {
  if (change?.action === 'create') {
    const want = change.want;
    await progress.run(`creating backend service ${want.name} (${what})`, () => insertBackendService(ctx, region, want));
    created.add(`backend service ${want.name}`, () => deleteBackendService(ctx, region, want.name));
    record(change);
  } else if (change?.action === 'update') {
    const { name: _name, loadBalancingScheme: _scheme, protocol: _protocol, ...patch } = change.want;
    await progress.run(`updating backend service ${change.want.name}`, () => patchBackendService(ctx, region, change.want.name, patch));
    record(change);
  }
}

// Stateful HA's failover semantics, as gcloud spells them; present exactly when the service has a failover policy.
const POLICY_FLAGS =
  '--failover-ratio=0 --no-drop-traffic-if-unhealthy --no-connection-drain-on-failover --connection-persistence-on-unhealthy-backends=NEVER_PERSIST';

/** The gcloud commands of a backend service to create (with its backends) or update; `p`, `r`: --project, --region. */
export function backendServiceCommands(change: ChangeOf<'backendService'>, p: string, r: string, region: string): string[] {
  if (change.action !== 'create' && change.action !== 'update') return [];
  const want = change.want;
  const check = `--health-checks ${lastSegment(want.healthChecks?.[0])} --health-checks-region ${region} --connection-draining-timeout ${String(want.connectionDraining?.drainingTimeoutSec)}s`;
  const policy = want.failoverPolicy === undefined || want.failoverPolicy === null ? '' : ` ${POLICY_FLAGS}`;
  if (change.action === 'update') return [`gcloud compute backend-services update ${want.name} ${p} ${r} ${check}${policy}`];
  const scheme =
    want.loadBalancingScheme === 'EXTERNAL'
      ? '--load-balancing-scheme external --protocol UNSPECIFIED'
      : `--load-balancing-scheme internal --protocol tcp --network ${lastSegment(want.network)}`;
  return [
    `gcloud compute backend-services create ${want.name} ${p} ${r} ${scheme} ${check}${policy} --description ${quote(String(want.description))}`,
    ...(want.backends ?? []).map(
      (backend) =>
        `gcloud compute backend-services add-backend ${want.name} ${p} ${r} --instance-group ${lastSegment(backend.group)} --instance-group-region ${region} --balancing-mode connection${backend.failover === true ? ' --failover' : ''}`,
    ),
  ];
}
