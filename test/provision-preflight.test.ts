// The preflight's pure parts: which quotas a plan would exceed, which firewall rules expose the NAT VM, and the image
// and boot disk a machine type needs.
import t from 'tap';
import { architectureOf, bootDiskTypeFor } from '../provision/model.js';
import { exposureWarnings, quotaProblems } from '../provision/preflight.js';

const region = (quotas: { metric: string; limit: number; usage: number }[]) => ({ quotas });

t.test('quotas: each metric the plan would take over its limit is named with limit, usage and need', async (t) => {
  const quotas = region([
    { metric: 'STATIC_ADDRESSES', limit: 8, usage: 7 },
    { metric: 'IN_USE_ADDRESSES', limit: 8, usage: 8 },
    { metric: 'INSTANCES', limit: 24, usage: 3 },
    { metric: 'CPUS', limit: 24, usage: 23 },
    { metric: 'E2_CPUS', limit: 24, usage: 0 },
  ]);
  t.same(
    quotaProblems(quotas, 'us-central1', 'e2-small', 2, { addresses: 1, vms: 1 }).map((problem) => problem.split(':')[0]),
    ['quota IN_USE_ADDRESSES in us-central1'],
    'E2 CPUs count against E2_CPUS',
  );
  t.match(
    quotaProblems(quotas, 'us-central1', 'n2d-standard-2', 2, { addresses: 1, vms: 1 }),
    [/IN_USE_ADDRESSES/, /quota CPUS in us-central1: limit 24, in use 23, this plan needs 2 more/],
    'a series without its own metric in the list counts against CPUS',
  );
  t.same(quotaProblems(quotas, 'us-central1', 'e2-small', 2, { addresses: 1, vms: 0 }), [], 'an address that fits, no VM');
  t.match(quotaProblems(quotas, 'us-central1', 'e2-small', 2, { addresses: 2, vms: 0 }), [
    /quota STATIC_ADDRESSES in us-central1: limit 8, in use 7, this plan needs 2 more\. Raise it/,
  ]);
  t.same(quotaProblems(undefined, 'us-central1', 'e2-small', 2, { addresses: 5, vms: 5 }), [], 'no quotas reported: nothing to say');
});

const rule = (fields: Record<string, unknown>) => ({
  name: 'r',
  network: 'https://x/projects/p/global/networks/default',
  direction: 'INGRESS',
  allowed: [{ IPProtocol: 'tcp', ports: ['22'] }],
  sourceRanges: ['0.0.0.0/0'],
  ...fields,
});

t.test('exposure: only enabled ingress rules of the network, open to the internet, that reach the NAT VM', async (t) => {
  const warn = (rules: Record<string, unknown>[]) =>
    exposureWarnings('p', 'default', 'natgw-x', ['natgw-x'], rules).map((warning) => warning.split(' ')[2]);
  t.same(warn([rule({ name: 'default-allow-ssh' })]), ['default-allow-ssh'], 'no target: every instance');
  t.same(warn([rule({ name: 'tagged', targetTags: ['natgw-x'] })]), ['tagged'], "targets the NAT VM's tag");
  t.same(warn([rule({ name: 'v6', sourceRanges: ['::/0'] })]), ['v6']);
  t.same(
    warn([
      rule({ name: 'other-tag', targetTags: ['web'] }),
      rule({ name: 'sa', targetServiceAccounts: ['x@p.iam.gserviceaccount.com'] }),
      rule({ name: 'iap', sourceRanges: ['35.235.240.0/20'] }),
      rule({ name: 'off', disabled: true }),
      rule({ name: 'egress', direction: 'EGRESS' }),
      rule({ name: 'deny', allowed: [], denied: [{ IPProtocol: 'all' }] }),
      rule({ name: 'elsewhere', network: 'https://x/projects/p/global/networks/prod' }),
      rule({ name: 'ours', description: 'natgw-gateway=natgw-x; something' }),
    ]),
    [],
    "other tags, service-account targets, narrow sources, disabled, egress, deny, other networks and natgw's own rules are not exposure",
  );
  t.match(
    exposureWarnings('p', 'default', 'natgw-x', ['natgw-x'], [rule({ name: 'default-allow-ssh' })])[0],
    /on tcp:22 .*gcloud compute firewall-rules update default-allow-ssh --project p --source-ranges 35\.235\.240\.0\/20.*gcloud compute firewall-rules delete default-allow-ssh --project p$/,
  );
});

t.test('machine types: architecture and boot disk type', async (t) => {
  t.equal(architectureOf('t2a-standard-1'), 'ARM64');
  t.equal(architectureOf('c4a-highcpu-4'), 'ARM64');
  t.equal(architectureOf('e2-small'), 'X86_64');
  t.equal(architectureOf('z9-new-1', 'ARM64'), 'ARM64', 'what GCE reports wins over the name');
  t.equal(bootDiskTypeFor('c4-standard-2'), 'hyperdisk-balanced');
  t.equal(bootDiskTypeFor('n4-standard-2'), 'hyperdisk-balanced');
  t.equal(bootDiskTypeFor('c4a-standard-1'), 'hyperdisk-balanced');
  t.equal(bootDiskTypeFor('t2a-standard-1'), 'pd-balanced', 'T2A takes no Hyperdisk');
  t.equal(bootDiskTypeFor('e2-small'), 'pd-balanced');
});
