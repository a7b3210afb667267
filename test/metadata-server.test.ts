// The lab's metadata server answers what Google's guest environment asks for (the requests seen from a real
// google_guest_agent and google_metadata_script_runner, docs/lab.md): the whole tree, kebab-case paths, listings,
// long polls, forwarded IPs and guest attributes.
import t from 'tap';
import { MetadataStore, metadataApp } from '../lab/metadata-server.js';

const VM = '10.10.0.5';

function setup() {
  const store = new MetadataStore();
  store.put({
    name: 'natgw-1',
    zone: 'us-central1-a',
    ip: VM,
    externalIp: '203.0.113.5',
    mac: '42:01:0a:0a:00:05',
    attributes: { 'startup-script': 'echo hi', 'natgw-config': '{}' },
    guestAttributes: {},
  });
  const app = metadataApp(store);
  const get = (url: string, headers: Record<string, string> = { 'metadata-flavor': 'Google' }) =>
    app.inject({ method: 'GET', url: `/computeMetadata/v1/${url}`, headers, remoteAddress: VM });
  return { store, app, get };
}

t.test('the recursive tree has camelCase keys and the NIC the guest agent matches by MAC', async (t) => {
  const { get, app } = setup();
  const response = await get('?recursive=true&alt=json&last_etag=NONE');
  t.equal(response.statusCode, 200);
  t.equal(response.headers['metadata-flavor'], 'Google');
  t.ok(response.headers.etag);
  const tree = response.json();
  t.equal(tree.instance.name, 'natgw-1');
  t.equal(tree.instance.attributes['startup-script'], 'echo hi');
  t.same(tree.instance.networkInterfaces[0].mac, '42:01:0a:0a:00:05');
  t.same(tree.instance.networkInterfaces[0].forwardedIps, []);
  t.same(tree.instance.networkInterfaces[0].forwardedIpv6s, [], 'an IPv4-only NIC: no IPv6 forwarding rules');
  t.same(tree.instance.networkInterfaces[0].accessConfigs, [{ externalIp: '203.0.113.5', type: 'ONE_TO_ONE_NAT' }]);
  t.equal(tree.project.projectId, 'natgw-lab');
  t.same(tree.project.attributes, {});
  await app.close();
});

t.test('kebab-case paths, values as text, listings, 404 and 403', async (t) => {
  const { get, app } = setup();
  t.equal((await get('instance/attributes/startup-script')).body, 'echo hi');
  t.equal((await get('instance/network-interfaces/0/access-configs/0/external-ip')).body, '203.0.113.5');
  t.equal((await get('instance/zone')).body, 'projects/000000000000/zones/us-central1-a');
  t.equal((await get('project/project-id')).body, 'natgw-lab');
  t.match((await get('instance/network-interfaces/0/')).body, /^forwarded-ips\/$/m);
  t.match((await get('instance/network-interfaces/0/')).body, /^forwarded-ipv6s\/$/m);
  t.same((await get('instance/attributes/?recursive=true&alt=json&timeout_sec=10')).json(), {
    'startup-script': 'echo hi',
    'natgw-config': '{}',
  });
  t.equal((await get('instance/attributes/missing')).statusCode, 404);
  t.equal((await get('instance/attributes/startup-script', {})).statusCode, 403);
  await app.close();
});

t.test('wait_for_change answers at once for another etag and holds until forwarded IPs change', async (t) => {
  const { get, store, app } = setup();
  const first = await get('instance/network-interfaces/0/forwarded-ips/?recursive=true');
  t.same(first.json(), []);
  const etag = String(first.headers.etag);
  t.equal((await get('instance/network-interfaces/0/forwarded-ips/?recursive=true&wait_for_change=true&last_etag=NONE')).statusCode, 200);
  const started = Date.now();
  const held = get(`instance/network-interfaces/0/forwarded-ips/?recursive=true&wait_for_change=true&last_etag=${etag}&timeout_sec=10`);
  setTimeout(() => store.setForwardedIps(VM, ['203.0.113.50']), 200);
  const changed = await held;
  t.ok(Date.now() - started >= 150, 'held until the change');
  t.same(changed.json(), ['203.0.113.50']);
  t.not(changed.headers.etag, etag);
  t.equal((await get('instance/network-interfaces/0/forwarded-ips/')).body, '0\n', 'listed by index, as GCE lists them');
  t.equal((await get('instance/network-interfaces/0/forwarded-ips/0')).body, '203.0.113.50');
  const timedOut = await get(
    `instance/name?wait_for_change=true&last_etag=${String((await get('instance/name')).headers.etag)}&timeout_sec=1`,
  );
  t.equal(timedOut.body, 'natgw-1', 'the same answer when nothing changed within timeout_sec');
  await app.close();
});

t.test('guest attributes are written with PUT and read back', async (t) => {
  const { get, store, app } = setup();
  const put = await app.inject({
    method: 'PUT',
    url: '/computeMetadata/v1/instance/guest-attributes/guest-agent/sshable',
    headers: { 'metadata-flavor': 'Google', 'content-type': 'text/plain' },
    payload: 'true',
    remoteAddress: VM,
  });
  t.equal(put.statusCode, 200);
  t.equal((await get('instance/guest-attributes/guest-agent/sshable')).body, 'true');
  t.equal(store.instances.get(VM)?.guestAttributes['guest-agent/sshable'], 'true');
  await app.close();
});
