// The executor: applies a plan in the one order that keeps clients safe (route last on the way up, first on the way
// down) and never creates the route before the agent says the NAT works.
import {
  findChange,
  pollUntil,
  reserveAddress,
  rollBackOnRefusal,
  serialTail,
  type ApplyOptions,
  type CreatedThisRun,
} from '../apply-shared.js';
import { addressBody } from '../kinds/address.js';
import { routeBody } from '../kinds/route.js';
import { applyFirewallChanges } from '../kinds/firewall.js';
import type { Where } from '../kinds/index.js';
import { getAddress, setAddressLabels } from '../gcp/addresses.js';
import { ProvisionError, type CallContext } from '../gcp/call.js';
import {
  deleteInstance,
  insertInstance,
  readHealthAttribute,
  setInstanceLabels,
  setInstanceMetadata,
  setInstanceTags,
  type Instance,
} from '../gcp/instances.js';
import { getImageFromFamily } from '../gcp/network.js';
import { deleteRoute, insertRoute } from '../gcp/routes.js';
import type { Desired, Observed } from '../model.js';
import type { Change, Plan } from '../plan.js';
import type { Progress } from '../progress.js';

export interface ApplyResult {
  natIp: string;
  health: string;
  applied: { kind: string; name: string; action: string }[];
}

export function instanceBody(desired: Desired, natIp: string, sourceImage: string): Instance {
  const want = desired.instance;
  return {
    name: want.name,
    description: `natgw NAT gateway ${desired.gateway}`,
    machineType: `zones/${want.zone}/machineTypes/${want.machineType}`,
    canIpForward: true,
    tags: { items: want.tags },
    labels: want.labels,
    metadata: { items: Object.entries(want.metadata).map(([key, value]) => ({ key, value })) },
    disks: [
      {
        boot: true,
        autoDelete: true,
        initializeParams: {
          sourceImage,
          diskSizeGb: String(want.bootDiskGb),
          diskType: `zones/${want.zone}/diskTypes/${want.bootDiskType}`,
        },
      },
    ],
    networkInterfaces: [
      {
        subnetwork: want.subnetwork,
        accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT', natIP: natIp, networkTier: 'PREMIUM' }],
      },
    ],
    shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
    // The agent only talks to the metadata server, which needs no identity: no service account, no API scopes.
    serviceAccounts: [],
    scheduling: { automaticRestart: true, onHostMaintenance: 'MIGRATE' },
  };
}

/** Waits for guest attribute natgw/health = ok; on timeout the error carries the VM's serial console tail. */
export async function waitHealthy(
  ctx: CallContext,
  progress: Progress,
  zone: string,
  instance: string,
  options: ApplyOptions,
): Promise<string> {
  return progress.run(
    `waiting for the agent on ${instance} to report healthy`,
    (step) => {
      let last = '(not reported yet)';
      return pollUntil(
        ctx,
        options,
        async () => {
          const read = await readHealthAttribute(ctx, zone, instance);
          if (read.value !== undefined) last = read.value;
          if (last === 'ok') return last;
          step.update(`health: ${last}${read.error === undefined ? '' : ` (last read failed, retrying: ${read.error})`}`);
          return undefined;
        },
        async () => {
          throw new ProvisionError(
            `the agent on ${instance} did not report healthy within ${Math.round(options.healthTimeoutMs / 1000)}s (last health: ${last}).\n` +
              `The route was not created, so no client traffic goes to this VM. Last lines of its serial console:\n${await serialTail(ctx, zone, instance, 30)}\n` +
              `Fix the cause (see also: gcloud compute instances get-serial-port-output ${instance} --zone ${zone}) and re-run provision; it resumes where it stopped.`,
          );
        },
      );
    },
    () => 'healthy',
  );
}

export function applyProvision(
  ctx: CallContext,
  desired: Desired,
  observed: Observed,
  plan: Plan,
  progress: Progress,
  options: ApplyOptions,
): Promise<ApplyResult> {
  return rollBackOnRefusal(progress, desired.gateway, (created) =>
    applyProvisionSteps(ctx, desired, observed, plan, progress, options, created),
  );
}

async function applyProvisionSteps(
  ctx: CallContext,
  desired: Desired,
  observed: Observed,
  plan: Plan,
  progress: Progress,
  options: ApplyOptions,
  created: CreatedThisRun,
): Promise<ApplyResult> {
  const applied: ApplyResult['applied'] = [];
  const record = (change: Change | undefined, action = change?.action) => {
    if (change !== undefined && action !== undefined) applied.push({ kind: change.kind, name: change.name, action });
  };
  const region = desired.region;
  const zone = desired.instance.zone;

  // ---- address ----
  const addressChange = findChange(plan, 'address');
  let natIp = observed.address?.address ?? '';
  if (addressChange?.kind === 'address' && addressChange.action === 'create') {
    await reserveAddress(ctx, region, progress, `creating address ${desired.address.name}`, addressBody(addressChange.want), created);
    const reserved = await getAddress(ctx, region, desired.address.name);
    if (reserved?.address === undefined || reserved.address === null)
      throw new ProvisionError(`address ${desired.address.name} was created but has no IP yet; re-run`);
    natIp = reserved.address;
    record(addressChange);
  } else if (addressChange?.kind === 'address' && addressChange.action === 'update' && observed.address !== undefined) {
    const current = observed.address;
    const labels = addressChange.want.labels;
    await progress.run(`labelling address ${current.name}`, () =>
      setAddressLabels(ctx, region, current.name, { ...current.labels, ...labels }, current.labelFingerprint),
    );
    record(addressChange);
  }

  // ---- firewalls ----
  await applyFirewallChanges(ctx, plan, progress, record, created);

  // ---- instance and route ----
  const instanceChange = findChange(plan, 'instance');
  const routeChange = findChange(plan, 'route');
  if (routeChange?.action === 'replace' && observed.route !== undefined) {
    await progress.run(`deleting route ${routeChange.name} (to replace it)`, () => deleteRoute(ctx, routeChange.name));
  }
  if (instanceChange?.action === 'replace' && observed.instance !== undefined) {
    const old = observed.instance;
    await progress.run(`deleting instance ${old.name} in ${old.zone} (to replace it)`, () => deleteInstance(ctx, old.zone, old.name));
  }
  if (instanceChange?.action === 'create' || instanceChange?.action === 'replace') {
    const family = desired.instance.image;
    const image = await getImageFromFamily(ctx, family.project, family.family);
    if (image?.selfLink === undefined || image.selfLink === null) {
      throw new ProvisionError(`image family ${family.project}/${family.family} not found; natgw runs on stock Debian 13`);
    }
    const sourceImage = image.selfLink;
    await progress.run(`creating instance ${desired.instance.name} in ${zone} (${desired.instance.machineType}, ${image.name})`, () =>
      insertInstance(ctx, zone, instanceBody(desired, natIp, sourceImage)),
    );
    if (instanceChange.action === 'create')
      created.add(`instance ${desired.instance.name}`, () => deleteInstance(ctx, zone, desired.instance.name));
    record(instanceChange);
  } else if (instanceChange?.action === 'update' && observed.instance !== undefined) {
    const have = observed.instance;
    const fields = new Set(instanceChange.diffs.map((diff) => diff.field.split('.')[0]));
    if (fields.has('metadata')) {
      // Keys of the user's stay; stale natgw-* keys (e.g. a chunk the smaller bundle no longer needs) go.
      const kept = Object.entries(have.metadata).filter(
        ([key]) => !key.startsWith('natgw-') && desired.instance.metadata[key] === undefined,
      );
      const items = [...kept, ...Object.entries(desired.instance.metadata)].map(([key, value]) => ({ key, value }));
      await progress.run(`updating metadata of ${have.name}`, () =>
        setInstanceMetadata(ctx, have.zone, have.name, items, have.metadataFingerprint),
      );
    }
    if (fields.has('labels'))
      await progress.run(`labelling ${have.name}`, () =>
        setInstanceLabels(ctx, have.zone, have.name, { ...have.labels, ...desired.instance.labels }, have.labelFingerprint),
      );
    if (fields.has('tags'))
      await progress.run(`setting network tags of ${have.name}`, () =>
        setInstanceTags(ctx, have.zone, have.name, desired.instance.tags, have.tagsFingerprint),
      );
    record(instanceChange);
  }

  let health = 'unknown';
  if (routeChange?.kind === 'route' && (routeChange.action === 'create' || routeChange.action === 'replace')) {
    health = await waitHealthy(ctx, progress, zone, desired.instance.name, options);
    const route = routeChange.want;
    await progress.run(`creating route ${route.name} (0.0.0.0/0 for tag ${route.tags.join(',')}, priority ${route.priority})`, () =>
      insertRoute(ctx, routeBody(ctx.project, route)),
    );
    record(routeChange);
  }
  return { natIp, health, applied };
}

/** Where destroy finds a single-mode gateway's resources. */
export const singleWhere = (ctx: CallContext, region: string, observed: Observed): Where => ({
  ctx,
  project: ctx.project,
  region,
  instanceZone: observed.instance?.zone ?? '',
  vmsOf: () => 0,
});
