// End to end: the real provisioner against the lab's Compute API; what it creates is real network state.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { buildAgentBundle } from '../provision/agent-bundle.js';
import { LabCloud, LAB_PROJECT, LAB_REGION } from '../lab/gce.js';
import { addWorkloads, natgwCli, PROVISION_FLAGS, whoami } from '../lab/demo.js';
import { Lab } from '../lab/lab.js';

t.test('provision → boot → agent → traffic → status → destroy, in the lab', async (t) => {
  const cloud = await LabCloud.start();
  let closed = false;
  t.teardown(async () => {
    if (!closed) await cloud.close();
  });
  const workloads = await addWorkloads(cloud);
  t.equal(await whoami(cloud, workloads.tagged, 2), undefined, 'before natgw, a VM without an external IP has no way out');

  const provision = await natgwCli(cloud, 'provision', PROVISION_FLAGS);
  t.equal(provision.exitCode, 0, provision.stderr);
  await cloud.settled();
  const address = cloud.store.list(LAB_PROJECT, `regions/${LAB_REGION}`, 'addresses')[0];
  const natIp = String(address?.address);
  t.match(natIp, /^203\.0\.113\.\d+$/, 'a static IP was reserved');
  t.match(
    cloud.store.serialOutputOf(LAB_PROJECT, `${LAB_REGION}-a`, `natgw-${LAB_REGION}`),
    /sha256 [0-9a-f]{64} verified/,
    "the real startup script ran at boot and its output is the VM's serial output",
  );

  await t.test('the tagged VM reaches the internet through the NAT IP; the untagged one cannot', async (t) => {
    t.equal(await whoami(cloud, workloads.tagged), natIp);
    t.equal(await whoami(cloud, workloads.untagged, 2), undefined);
  });

  await t.test('natgw status against the lab reports healthy', async (t) => {
    const status = await natgwCli(cloud, 'status');
    t.equal(status.exitCode, 0, status.stderr);
    t.match(status.stdout, /serving/);
    t.match(status.stdout, /agent\s+health\s+ok/);
  });

  await t.test('a second provision is read-only and says up to date', async (t) => {
    const before = cloud.api.mutations().length;
    const again = await natgwCli(cloud, 'provision', PROVISION_FLAGS);
    t.equal(again.exitCode, 0, again.stderr);
    t.match(again.stdout, /up to date/i);
    t.equal(cloud.api.mutations().length, before, 'no mutating call');
  });

  await t.test('a new agent bundle: the running agent restarts into it without a reboot, and forwarding never stops', async (t) => {
    const marker = '// natgw lab e2e: a newer release';
    const file = path.join(cloud.lab.dir, 'next-agent.mjs');
    writeFileSync(file, Buffer.concat([await buildAgentBundle(), Buffer.from(`\n${marker}\n`)]));
    // The NAT VM is a real guest: its files and its journal are read inside it, as over SSH on GCE.
    const vm = `natgw-${LAB_REGION}`;
    const inGuest = async (args: string[]) => (await cloud.lab.exec(vm, args, { okExitCodes: [1] })).stdout;
    const agentJournal = () => inGuest(['journalctl', '--unit=natgw-agent.service', '--output=cat', '--no-pager']);
    const upgraded = async () =>
      (await inGuest(['tail', '-c', '100', '/opt/natgw/natgw-agent.mjs'])).endsWith(`${marker}\n`) &&
      /"event":"upgrade"/.test(await agentJournal());

    let probing = true;
    let probes = 0;
    let failures = 0;
    const prober = (async () => {
      // Bounded: stops when the upgrade is seen, at the latest after 90 s.
      const deadline = Date.now() + 90_000;
      while (probing && Date.now() < deadline) {
        probes++;
        if ((await whoami(cloud, workloads.tagged, 2)) !== natIp) failures++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const provision = await natgwCli(cloud, 'provision', [...PROVISION_FLAGS, '--agent-bundle', file]);
    t.equal(provision.exitCode, 0, provision.stderr);
    t.match(provision.stdout, /restarts into the new bundle/, 'the plan says what will happen');
    await cloud.settled();
    const deadline = Date.now() + 60_000;
    while (!(await upgraded()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    t.ok(await upgraded(), 'the new bundle is installed and the agent said it restarts into it');
    let healthy = false;
    while (!healthy && Date.now() < deadline + 30_000) {
      const status = await natgwCli(cloud, 'status');
      healthy = status.exitCode === 0 && /agent\s+health\s+ok/.test(status.stdout);
    }
    probing = false;
    await prober;
    t.ok(healthy, 'the restarted agent reports healthy again');
    t.ok(
      Number((await inGuest(['systemctl', 'show', '--property=NRestarts', '--value', 'natgw-agent.service'])).trim()) >= 1,
      'systemd restarted the unit after its exit to upgrade',
    );
    t.ok(probes > 5, `the tagged VM kept probing through the upgrade (${probes} requests)`);
    t.equal(failures, 0, 'no request through the NAT failed while the agent was replaced');
    t.equal(await whoami(cloud, workloads.tagged), natIp);
  });

  await t.test(
    'stopping the NAT VM through the API: its route warns NEXT_HOP_NOT_RUNNING and carries nothing; a start brings egress back',
    async (t) => {
      const zone = `${LAB_REGION}-a`;
      const name = `natgw-${LAB_REGION}`;
      const api = (method: string, suffix: string) =>
        fetch(`${cloud.url}/compute/v1/projects/${LAB_PROJECT}/${suffix}`, {
          method,
          headers: { 'content-type': 'application/json' },
        }).then((response) => response.json() as Promise<Record<string, unknown>>);
      const routeWarnings = async () => {
        const routes = ((await api('GET', 'global/routes')).items as { warnings?: { code: string }[] }[] | undefined) ?? [];
        return routes.flatMap((route) => (route.warnings ?? []).map((warning) => warning.code));
      };
      t.same(await routeWarnings(), [], 'no warning while the NAT VM runs');
      await api('POST', `zones/${zone}/instances/${name}/stop`);
      await cloud.settled();
      t.same(await routeWarnings(), ['NEXT_HOP_NOT_RUNNING']);
      t.notOk(cloud.lab.vms.has(name), 'the stopped VM is powered off');
      t.equal(await whoami(cloud, workloads.tagged, 2), undefined, 'the route carries nothing while its next hop is stopped');
      await api('POST', `zones/${zone}/instances/${name}/start`);
      await cloud.settled();
      t.same(await routeWarnings(), []);
      // The VM boots again: startup script, agent, data plane. Bounded wait for egress through the same static IP.
      const deadline = Date.now() + 90_000;
      let seenAs: string | undefined;
      while (seenAs !== natIp && Date.now() < deadline) {
        seenAs = await whoami(cloud, workloads.tagged, 2);
        if (seenAs !== natIp) await new Promise((resolve) => setTimeout(resolve, 500));
      }
      t.equal(seenAs, natIp, 'after the start the tagged VM is NATed through the static IP again');
    },
  );

  // Last before destroy: the burst spends the NAT VM's guest-attribute rate (10 writes a minute, dropped ones counted),
  // and for the next minute the agent's own writes would be dropped too: a test before it would wait on a stale natgw/health.
  await t.test("guest attributes: a VM's burst above 3 writes/s reaches the API only in part, as GCE may drop them", async (t) => {
    const vm = `natgw-${LAB_REGION}`;
    const outcomes: string[] = [];
    const count = (landed: boolean) => (event: { instance: string; path: string; value: string }) => {
      if (event.instance === vm && event.path === 'natgw/burst') outcomes.push(`${event.value}:${landed ? 'landed' : 'dropped'}`);
    };
    const onLanded = count(true);
    const onDropped = count(false);
    cloud.store.on('guestAttribute', onLanded);
    cloud.store.on('guestAttributeDropped', onDropped);
    t.teardown(() => {
      cloud.store.off('guestAttribute', onLanded);
      cloud.store.off('guestAttributeDropped', onDropped);
    });
    // One curl, five PUTs on one kept-alive connection: a burst of milliseconds even on a loaded box (five curl
    // processes one after another could spread past a second there and stay under the limit).
    const url = 'http://169.254.169.254/computeMetadata/v1/instance/guest-attributes/natgw/burst';
    const put = [1, 2, 3, 4, 5].flatMap((n, index) => [
      ...(index === 0 ? [] : ['--next']),
      '-sf',
      '-X',
      'PUT',
      '-H',
      'Metadata-Flavor: Google',
      '--data',
      `w${n}`,
      url,
    ]);
    const burstStarted = Date.now();
    await cloud.lab.exec(vm, ['curl', ...put]);
    t.comment(`the burst took ${Date.now() - burstStarted} ms including the process start`);
    const deadline = Date.now() + 10_000;
    while (outcomes.length < 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    t.equal(outcomes.length, 5, `every write reached the API's rate limiter: ${outcomes.join(', ')}`);
    t.ok(outcomes.filter((outcome) => outcome.endsWith(':dropped')).length >= 2, 'at least two of the burst were dropped');
    t.not(
      cloud.store.guestAttributesOf(LAB_PROJECT, `${LAB_REGION}-a`, vm).get('natgw/burst'),
      'w5',
      'the last write of the burst did not land',
    );
  });

  await t.test('natgw destroy removes the route and the tagged VM loses internet access again', async (t) => {
    const destroy = await natgwCli(cloud, 'destroy', ['--yes']);
    t.equal(destroy.exitCode, 0, destroy.stderr);
    await cloud.settled();
    t.same(cloud.store.list(LAB_PROJECT, 'global', 'routes'), [], 'no route left');
    t.equal(await whoami(cloud, workloads.tagged, 2), undefined);
    t.notOk(cloud.lab.vms.has(`natgw-${LAB_REGION}`), 'the NAT VM is gone');
    t.ok(cloud.lab.vms.has(workloads.tagged), "the user's VMs are untouched");
  });

  const id = cloud.lab.id;
  await cloud.close();
  closed = true;
  t.same(
    Lab.namespaces().filter((namespace) => namespace.includes(id)),
    [],
    'nothing of the lab is left after down',
  );
});
