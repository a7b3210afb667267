// Single mode's planner: plan(desired, observed) → the changes that converge one into the other, and what destroy
// removes. Pure: no I/O, no clock.
import { lastSegment, ownerFromDescription, ownerFromLabels, shortLink, type Desired, type Kind, type Observed } from '../model.js';
import { planFirewalls } from '../kinds/firewall.js';
import { planRoute } from '../kinds/route.js';
import { diffField, isUpToDate, diffMaps, setText, type Change, type FieldDiff, type Plan } from '../plan.js';
import { METADATA } from '../../common/protocol.js';

const wantedAddress = ({ address }: Desired) => ({ name: address.name, labels: address.labels, description: address.description });

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
    changes.push({ kind: 'address', name: desired.address.name, action: 'create', diffs: [], want: wantedAddress(desired) });
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
    if (diffs.length > 0) changes.push({ kind: 'address', name: address.name, action: 'update', diffs, want: wantedAddress(desired) });
    else changes.push({ kind: 'address', name: address.name, action: 'unchanged', diffs });
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
      const bundleChanged = mutable.some((diff) => diff.field === `metadata.${METADATA.bundleChecksum}`);
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
  const route = planRoute(gateway, observed.route, desired.route, {
    created: 'created once the agent reports healthy',
    nextHopReplaced: instanceReplaced ? 'it points at the VM being replaced' : undefined,
  });
  if ('conflict' in route) conflicts.push({ kind: 'route', name: desired.route.name, action: 'conflict', diffs: [], note: route.conflict });
  else changes.push(route);

  return { changes, conflicts, upToDate: isUpToDate(changes, conflicts) };
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
