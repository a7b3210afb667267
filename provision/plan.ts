// plan(desired, observed) → the changes that converge one into the other. Pure: no I/O, no clock.
import {
  lastSegment,
  ownerFromDescription,
  ownerFromLabels,
  shortLink,
  type Desired,
  type DesiredFirewall,
  type Kind,
  type Observed,
} from './model.js';

export type Action = 'create' | 'update' | 'replace' | 'delete' | 'unchanged' | 'conflict' | 'keep';

export interface FieldDiff {
  field: string;
  have: string;
  want: string;
}

export interface Change {
  kind: Kind;
  name: string;
  action: Action;
  diffs: FieldDiff[];
  /** Why: shown next to the action. */
  note?: string;
}

export interface Plan {
  changes: Change[];
  /** Resources with our names that natgw does not own: nothing may proceed while they exist. */
  conflicts: Change[];
  upToDate: boolean;
}

export const setText = (values: string[]) => [...values].sort().join(',');
const short = (value: string) => (value.length > 40 ? `${value.slice(0, 16)}…(${value.length} chars)` : value);

export function diffField(diffs: FieldDiff[], field: string, have: string, want: string): void {
  if (have !== want) diffs.push({ field, have, want });
}

function firewallText(rules: DesiredFirewall['allowed']): string {
  return rules
    .map((rule) => `${rule.IPProtocol}${rule.ports === undefined || rule.ports.length === 0 ? '' : `:${[...rule.ports].sort().join('/')}`}`)
    .sort()
    .join(',');
}

/** Compares the keys natgw owns: those it wants, plus any stale key matching `owned` (others belong to the user). */
export function diffMaps(
  diffs: FieldDiff[],
  field: string,
  have: Record<string, string>,
  want: Record<string, string>,
  owned: RegExp = /^$/,
): void {
  const keys = new Set([...Object.keys(want), ...Object.keys(have).filter((key) => owned.test(key))]);
  for (const key of [...keys].sort()) {
    if (have[key] !== want[key])
      diffs.push({ field: `${field}.${key}`, have: short(have[key] ?? '(none)'), want: short(want[key] ?? '(none)') });
  }
}

/** Firewall rules, shared by single and HA mode: create, update in place, replace (network change), delete stale ones. */
export function planFirewalls(
  gateway: string,
  wanted: DesiredFirewall[],
  observedFirewalls: Observed['firewalls'],
  changes: Change[],
  conflicts: Change[],
): void {
  for (const want of wanted) {
    const have = observedFirewalls[want.name];
    if (have === undefined) {
      changes.push({ kind: 'firewall', name: want.name, action: 'create', diffs: [] });
      continue;
    }
    if (ownerFromDescription(have.description) !== gateway) {
      conflicts.push({
        kind: 'firewall',
        name: want.name,
        action: 'conflict',
        diffs: [],
        note: "a firewall rule with this name exists but is not marked as this gateway's; pick another --name or delete it",
      });
      continue;
    }
    const diffs: FieldDiff[] = [];
    diffField(diffs, 'network', lastSegment(have.network), lastSegment(want.network));
    diffField(diffs, 'sourceRanges', setText(have.sourceRanges), setText(want.sourceRanges));
    diffField(diffs, 'targetTags', setText(have.targetTags), setText(want.targetTags));
    diffField(diffs, 'allowed', firewallText(have.allowed), firewallText(want.allowed));
    diffField(diffs, 'priority', String(have.priority), String(want.priority));
    diffField(diffs, 'description', have.description, want.description);
    diffField(diffs, 'disabled', String(have.disabled), 'false');
    // The network of a firewall rule cannot change in place.
    const action = diffs.some((diff) => diff.field === 'network') ? 'replace' : diffs.length > 0 ? 'update' : 'unchanged';
    changes.push({ kind: 'firewall', name: want.name, action, diffs });
  }
  for (const [name, have] of Object.entries(observedFirewalls)) {
    if (have === undefined || wanted.some((want) => want.name === name)) continue;
    if (ownerFromDescription(have.description) === gateway)
      changes.push({ kind: 'firewall', name, action: 'delete', diffs: [], note: 'no longer wanted' });
  }
}

export function plan(desired: Desired, observed: Observed): Plan {
  const changes: Change[] = [];
  const conflicts: Change[] = [];
  const gateway = desired.gateway;

  // ---- address ----
  const address = observed.address;
  if (!desired.address.managed) {
    if (address === undefined) {
      conflicts.push({
        kind: 'address',
        name: desired.address.name,
        action: 'conflict',
        diffs: [],
        note: 'the --nat-ip address does not exist in this region; reserve it first or use --nat-ip auto',
      });
    } else if (
      address.status === 'IN_USE' &&
      !address.users.some((user) => shortLink(user) === `zones/${desired.instance.zone}/instances/${desired.instance.name}`)
    ) {
      conflicts.push({
        kind: 'address',
        name: address.name,
        action: 'conflict',
        diffs: [],
        note: `the --nat-ip address ${address.address} is in use by ${address.users.map(shortLink).join(', ')}`,
      });
    } else {
      changes.push({
        kind: 'address',
        name: address.name,
        action: 'keep',
        diffs: [],
        note: `your reserved address ${address.address}, used as is`,
      });
    }
  } else if (address === undefined) {
    changes.push({ kind: 'address', name: desired.address.name, action: 'create', diffs: [] });
  } else if (ownerFromLabels(address.labels) !== gateway) {
    conflicts.push({
      kind: 'address',
      name: address.name,
      action: 'conflict',
      diffs: [],
      note: 'an address with this name exists but is not labelled as this gateway; pick another --name or pass it with --nat-ip',
    });
  } else {
    const diffs: FieldDiff[] = [];
    diffMaps(diffs, 'labels', address.labels, desired.address.labels);
    changes.push({ kind: 'address', name: address.name, action: diffs.length > 0 ? 'update' : 'unchanged', diffs });
  }

  // ---- firewalls ----
  planFirewalls(gateway, desired.firewalls, observed.firewalls, changes, conflicts);

  // ---- instance ----
  const instance = observed.instance;
  const want = desired.instance;
  let instanceReplaced = false;
  if (instance === undefined) {
    changes.push({ kind: 'instance', name: want.name, action: 'create', diffs: [] });
    instanceReplaced = true;
  } else if (ownerFromLabels(instance.labels) !== gateway) {
    conflicts.push({
      kind: 'instance',
      name: want.name,
      action: 'conflict',
      diffs: [],
      note: 'an instance with this name exists but is not labelled as this gateway; pick another --name',
    });
  } else {
    const immutable: FieldDiff[] = [];
    diffField(immutable, 'zone', instance.zone, want.zone);
    diffField(immutable, 'machineType', instance.machineType, want.machineType);
    diffField(immutable, 'canIpForward', String(instance.canIpForward), 'true');
    diffField(immutable, 'network', lastSegment(instance.network), lastSegment(want.network));
    diffField(immutable, 'shieldedVm', String(instance.shielded), 'true');
    if (address !== undefined) diffField(immutable, 'natIP', instance.natIp ?? '(none)', address.address);
    else diffField(immutable, 'natIP', instance.natIp ?? '(none)', '(the address to be reserved)');
    const mutable: FieldDiff[] = [];
    diffField(mutable, 'tags', setText(instance.tags), setText(want.tags));
    diffMaps(mutable, 'labels', instance.labels, want.labels);
    diffMaps(mutable, 'metadata', instance.metadata, want.metadata, /^natgw-/);
    if (immutable.length > 0) {
      changes.push({
        kind: 'instance',
        name: want.name,
        action: 'replace',
        diffs: [...immutable, ...mutable],
        note: 'these fields need a new VM: clients lose the NAT route until the new VM is healthy',
      });
      instanceReplaced = true;
    } else {
      const bundleChanged = mutable.some((diff) => diff.field === 'metadata.natgw-agent-sha256');
      changes.push({
        kind: 'instance',
        name: want.name,
        action: mutable.length > 0 ? 'update' : 'unchanged',
        diffs: mutable,
        ...(bundleChanged
          ? {
              note: (instance.metadata['startup-script'] ?? '').includes('update-agent')
                ? 'the running agent restarts into the new bundle within seconds; forwarding does not stop'
                : 'this VM booted with a startup script from before live upgrades: the new agent bundle is installed at its next boot',
            }
          : {}),
      });
    }
  }

  // ---- route ----
  const route = observed.route;
  const wantRoute = desired.route;
  if (route === undefined) {
    changes.push({ kind: 'route', name: wantRoute.name, action: 'create', diffs: [], note: 'created once the agent reports healthy' });
  } else if (ownerFromDescription(route.description) !== gateway) {
    conflicts.push({
      kind: 'route',
      name: wantRoute.name,
      action: 'conflict',
      diffs: [],
      note: "a route with this name exists but is not marked as this gateway's; pick another --name",
    });
  } else {
    const diffs: FieldDiff[] = [];
    diffField(diffs, 'network', lastSegment(route.network), lastSegment(wantRoute.network));
    diffField(diffs, 'destRange', route.destRange, wantRoute.destRange);
    diffField(diffs, 'priority', String(route.priority), String(wantRoute.priority));
    diffField(diffs, 'tags', setText(route.tags), setText(wantRoute.tags));
    diffField(diffs, 'nextHopInstance', shortLink(route.nextHopInstance), wantRoute.nextHopInstance);
    diffField(diffs, 'description', route.description, wantRoute.description);
    if (diffs.length > 0)
      changes.push({ kind: 'route', name: wantRoute.name, action: 'replace', diffs, note: 'routes cannot be changed in place' });
    else if (instanceReplaced)
      changes.push({ kind: 'route', name: wantRoute.name, action: 'replace', diffs: [], note: 'it points at the VM being replaced' });
    else changes.push({ kind: 'route', name: wantRoute.name, action: 'unchanged', diffs: [] });
  }

  const upToDate = conflicts.length === 0 && changes.every((change) => change.action === 'unchanged' || change.action === 'keep');
  return { changes, conflicts, upToDate };
}

/** What destroy removes: ours only, route first so clients fall back before the VM goes. */
export function planDestroy(
  gateway: string,
  observed: Observed,
  names: { address: string; firewalls: string[]; instance: string; route: string },
): Plan {
  const changes: Change[] = [];
  const conflicts: Change[] = [];
  const decide = (kind: Kind, name: string, exists: boolean, ours: boolean) => {
    if (!exists) return;
    if (ours) changes.push({ kind, name, action: 'delete', diffs: [] });
    else changes.push({ kind, name, action: 'keep', diffs: [], note: 'not created by natgw for this gateway: left alone' });
  };
  decide('route', names.route, observed.route !== undefined, ownerFromDescription(observed.route?.description) === gateway);
  decide('instance', names.instance, observed.instance !== undefined, ownerFromLabels(observed.instance?.labels) === gateway);
  for (const name of names.firewalls) {
    const firewall = observed.firewalls[name];
    decide('firewall', name, firewall !== undefined, ownerFromDescription(firewall?.description) === gateway);
  }
  decide('address', names.address, observed.address !== undefined, ownerFromLabels(observed.address?.labels) === gateway);
  return { changes, conflicts, upToDate: changes.every((change) => change.action !== 'delete') };
}
