// `natgw lab fallback`: HA natgw with a Cloud NAT fallback in the lab, the fallback watcher (fallback/watch.ts, in this
// process, against the lab's Compute API, its egress probe run from a lab VM carrying the probe tag), every NAT VM
// failed and healed, and what a tagged VM's new connections looked like from the internet meanwhile.
import path from 'node:path';
import { waitFor } from '../common/wait.js';
import { startWatcher, type ProbeResult, type RunningWatcher } from '../fallback/watch.js';
import { whoami } from './demo.js';
import type { CloudNatCounters } from './cloud-nat.js';
import { startCaptures, readCapture } from './flow-capture.js';
import { LAB_PROJECT, LAB_REGION, type LabCloud } from './gce.js';
import { INTERNET } from './model.js';
import { bothHealthy, GATEWAY, natVmsOf, provisionedLab } from './stateful/provisioned-pair.js';

const MIGS = [`${GATEWAY}-mig`];
const INTERNAL_LB = `${GATEWAY}-fr`;
const PROBE_TAG = `${GATEWAY}-probe`;
const CUT_TABLE = 'natgw_lab_fallback_cut';
const CURL_FAILURES = [6, 7, 28, 35, 52, 56];

/** The lab's short timers: long enough for the load balancer's checks (2 s × 2), short enough for a test. */
export const LAB_FALLBACK_TIMERS = { intervalMs: 2000, failAfterMs: 10_000, holdDownMs: 10_000 } as const;

export interface FallbackReport {
  /** From the last NAT VM failing until a tagged VM's new connection left through Cloud NAT's IP (null: never). */
  fallbackAfterMs: number | null;
  /** From natgw healthy again until a tagged VM's new connection left through natgw's IP again (null: never). */
  failbackAfterMs: number | null;
  /** The two source IPs as the internet host saw them. */
  fallbackIp: string | null;
  natgwIp: string | null;
  /** Path changes of the tagged VM's connections beyond the two expected (fallback, failback). */
  flaps: number;
  /** The watcher's own count of route moves, by direction. */
  transitions: { fallback: number; failback: number };
  /**
   * Packets a VM sent through Cloud NAT while natgw was healthy (before the failure, and while one NAT VM went up and
   * down): must be 0.
   */
  cloudNatSentWhileHealthy: number;
  /**
   * Every packet through Cloud NAT in those windows, the internet's included: a connection begun during the fallback
   * that the failback moved off Cloud NAT still gets the server's retransmitted FIN that way, and nothing more.
   */
  cloudNatPacketsWhileHealthy: number;
  /**
   * When that is not 0: in which window, by which VM (sent/all), and those packets as the internet side of Cloud NAT
   * saw them, with the tagged VM's samples and the watcher's lines around the first one.
   */
  cloudNatEvidence?: string[];
  /** How often a NAT VM went down or up while the other stayed healthy (flapping). */
  flapToggles: number;
}

export interface FallbackLab {
  cloud: LabCloud;
  client: string;
  prober: string;
  watcher: RunningWatcher;
  watcherLog: string[];
  /** Every NAT VM's egress cut at the fabric: each fails its load balancer check (its egress probe), as a bad rollout would. */
  failNatVms(ips?: string[]): Promise<void>;
  healNatVms(): Promise<void>;
  /** The source IP the internet saw for one new connection from `vm` (undefined: it failed). */
  seenAs(vm: string): Promise<string | undefined>;
  natgwIps(): string[];
  cloudNatIp(): string;
  close(): Promise<void>;
}

/** Builds the lab: HA natgw (2 NAT VMs), its fallback, a tagged client, the prober VM, and the watcher. */
export function buildFallbackLab(say: (line: string) => void): Promise<FallbackLab> {
  return provisionedLab(['--ha', '--size', '2', '--fallback', 'cloud-nat'], say, async ({ cloud, client }) => {
    await bothHealthy(cloud, MIGS, [INTERNAL_LB], 120_000);
    const prober = 'fallback-prober';
    await cloud.addWorkload(prober, [PROBE_TAG]);
    const proberNs = cloud.lab.vm(prober).namespace;
    // Two new connections to two URLs: one backend hashed away from is not natgw failing.
    const probe = async (): Promise<ProbeResult> => {
      const started = Date.now();
      const failures: string[] = [];
      for (const path of ['/whoami', '/']) {
        const { exitCode, stdout, stderr } = await cloud.lab.run(
          'probe through natgw',
          proberNs,
          ['curl', '-sS', '-m', '2', '-o', '/dev/null', '-w', '%{http_code}', `http://${INTERNET.server}${path}`],
          { okExitCodes: CURL_FAILURES },
        );
        if (exitCode === 0) return { ok: true, durationMs: Date.now() - started, detail: `${path} answered ${stdout}` };
        failures.push(`${path}: ${stderr.trim() || `curl exit ${exitCode}`}`);
      }
      return { ok: false, durationMs: Date.now() - started, detail: failures.join('; ') };
    };
    const api = new URL(cloud.url);
    const watcherLog: string[] = [];
    const watcher = await startWatcher({
      endpoint: { host: api.hostname, port: Number(api.port), protocol: 'http' },
      project: LAB_PROJECT,
      region: LAB_REGION,
      gateway: GATEWAY,
      timers: { failAfterMs: LAB_FALLBACK_TIMERS.failAfterMs, holdDownMs: LAB_FALLBACK_TIMERS.holdDownMs },
      intervalMs: LAB_FALLBACK_TIMERS.intervalMs,
      probe,
      listen: { host: '127.0.0.1', port: 0 },
      log: (line) => {
        watcherLog.push(`${new Date().toISOString()} ${line}`);
        say(`watcher: ${line}`);
      },
    });
    let watching = true;
    let closed = false;
    const natgwIps = () => natVmsOf(cloud, MIGS).flatMap((vm) => (vm.externalIp === undefined ? [] : [vm.externalIp]));
    const cloudNatIp = () => {
      const ip = cloud.cloudNatIps().get(`${GATEWAY}-router/${GATEWAY}-fallback`);
      if (ip === undefined) throw new Error('the lab applies no Cloud NAT config');
      return ip;
    };
    return {
      cloud,
      client,
      prober,
      watcher: {
        ...watcher,
        stop: async () => {
          watching = false;
          await watcher.stop();
        },
      },
      watcherLog,
      failNatVms: async (ips = natgwIps()) => {
        const table = [
          `table ip ${CUT_TABLE}`,
          `delete table ip ${CUT_TABLE}`,
          `table ip ${CUT_TABLE} {`,
          '  chain postrouting {',
          '    type filter hook postrouting priority 300; policy accept;',
          `    oifname "wan" ip saddr { ${ips.join(', ')} } drop`,
          '  }',
          '}',
          '',
        ].join('\n');
        await cloud.lab.run('cut the NAT VMs off the internet', cloud.lab.fabric, ['nft', '-f', '-'], { input: table });
      },
      healNatVms: async () => {
        await cloud.lab.run('reconnect the NAT VMs', cloud.lab.fabric, ['nft', 'delete', 'table', 'ip', CUT_TABLE], { okExitCodes: [1] });
      },
      seenAs: (vm) => whoami(cloud, vm, 2),
      natgwIps,
      cloudNatIp,
      close: async () => {
        if (closed) return;
        closed = true;
        if (watching) await watcher.stop();
        await cloud.close();
      },
    };
  });
}

type Path = 'natgw' | 'fallback' | 'none';

/** The tagged VM's new connections, one every `everyMs`, classified by the source IP the internet saw. */
function pathSampler(lab: FallbackLab, everyMs: number) {
  const samples: { at: number; path: Path; ip: string | undefined }[] = [];
  let running = true;
  // Both are fixed for the lab's life (reserved NAT IPs, one Cloud NAT address): read once, not per sample.
  const cloudNatIp = lab.cloudNatIp();
  const natgwIps = lab.natgwIps();
  const done = (async () => {
    while (running) {
      const ip = await lab.seenAs(lab.client);
      const path: Path = ip === undefined ? 'none' : ip === cloudNatIp ? 'fallback' : natgwIps.includes(ip) ? 'natgw' : 'none';
      samples.push({ at: Date.now(), path, ip });
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    samples,
    firstAfter: (since: number, path: Path) => samples.find((sample) => sample.at >= since && sample.path === path),
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** How often the working path changed (natgw ↔ fallback), failed connections left out. */
export function pathChanges(paths: readonly Path[]): number {
  const working = paths.filter((path) => path !== 'none');
  return working.filter((path, index) => index > 0 && path !== working[index - 1]).length;
}

const transitionsOf = async (watcher: RunningWatcher) => {
  const text = await watcher.metrics.registry.metrics();
  const count = (direction: string) =>
    Number(new RegExp(`^natgw_fallback_transitions_total\\{direction="${direction}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  return { fallback: count('fallback'), failback: count('failback') };
};

/**
 * The measurement: natgw serving (Cloud NAT must stay at 0 packets), every NAT VM failed until the tagged VM leaves
 * through Cloud NAT, natgw healed until it leaves through natgw again, then one NAT VM going down and up every 10 s
 * (`flapToggles` times) while the other stays healthy, which must move nothing.
 */
export async function runFallbackMeasurement(
  lab: FallbackLab,
  options: { say: (line: string) => void; flapToggles: number; fallbackTimeoutMs?: number; failbackTimeoutMs?: number },
): Promise<FallbackReport> {
  const { say } = options;
  const sampler = pathSampler(lab, 250);
  const capture = await captureCloudNat(lab);
  try {
    const serving = await waitFor(() => sampler.samples.filter((sample) => sample.path === 'natgw').length >= 8, { timeoutMs: 30_000 });
    if (!serving) throw new Error(`the tagged VM does not leave through natgw: ${JSON.stringify(sampler.samples.slice(-5))}`);
    // The watcher must see natgw healthy first (its probe through natgw works), or the failure proves nothing.
    const watcherSeesHealthy = await waitFor(
      async () => /^natgw_fallback_natgw_healthy 1$/m.test(await lab.watcher.metrics.registry.metrics()),
      {
        timeoutMs: 60_000,
        everyMs: 500,
      },
    );
    if (!watcherSeesHealthy) throw new Error(`the watcher never saw natgw healthy:\n${lab.watcherLog.join('\n')}`);
    const healthyCounters = await lab.cloud.cloudNatCounters();
    const healthyUntil = Date.now();
    const natgwIp = sampler.samples.find((sample) => sample.path === 'natgw')?.ip ?? null;
    say(
      `natgw serves the tagged VM (the internet sees ${natgwIp}); Cloud NAT ${lab.cloudNatIp()} has carried ${healthyCounters.packets} packets`,
    );

    const failedAt = Date.now();
    await lab.failNatVms();
    say(`every NAT VM's egress cut (${lab.natgwIps().join(', ')}): they fail their load balancer checks and the probe through natgw fails`);
    await waitFor(() => sampler.firstAfter(failedAt, 'fallback') !== undefined, { timeoutMs: options.fallbackTimeoutMs ?? 120_000 });
    const fellBack = sampler.firstAfter(failedAt, 'fallback');
    say(
      fellBack === undefined
        ? 'the tagged VM never left through Cloud NAT'
        : `the tagged VM leaves through Cloud NAT (${fellBack.ip}) ${((fellBack.at - failedAt) / 1000).toFixed(1)} s after the failure`,
    );

    const healedAt = Date.now();
    await lab.healNatVms();
    say('NAT VMs reconnected');
    await waitFor(() => sampler.firstAfter(healedAt, 'natgw') !== undefined, { timeoutMs: options.failbackTimeoutMs ?? 150_000 });
    const failedBack = sampler.firstAfter(healedAt, 'natgw');
    say(
      failedBack === undefined
        ? 'the tagged VM never came back to natgw'
        : `the tagged VM leaves through natgw again (${failedBack.ip}) ${((failedBack.at - healedAt) / 1000).toFixed(1)} s after natgw was healed`,
    );

    const beforeFlapping = await lab.cloud.cloudNatCounters();
    const flappingFrom = Date.now();
    const [flapping] = lab.natgwIps();
    for (let toggle = 0; toggle < options.flapToggles; toggle++) {
      if (toggle % 2 === 0) await lab.failNatVms(flapping === undefined ? [] : [flapping]);
      else await lab.healNatVms();
      say(`NAT VM with ${flapping} ${toggle % 2 === 0 ? 'down' : 'up'} (${toggle + 1}/${options.flapToggles})`);
      await new Promise((resolve) => setTimeout(resolve, 10_000));
    }
    await lab.healNatVms();
    const afterFlapping = await lab.cloud.cloudNatCounters();
    const flappingUntil = Date.now();
    await sampler.stop();
    const changes = pathChanges(sampler.samples.map((sample) => sample.path));
    const windows = [
      cloudNatWindow('before the failure', capture.startedAt, healthyUntil, undefined, healthyCounters),
      cloudNatWindow('while one NAT VM flapped', flappingFrom, flappingUntil, beforeFlapping, afterFlapping),
    ];
    const whileHealthy = (count: 'sentPackets' | 'packets') =>
      windows.reduce((sum, window) => sum + [...window.byVm.values()].reduce((vms, vm) => vms + vm[count], 0), 0);
    const cloudNatPacketsWhileHealthy = whileHealthy('packets');
    const cloudNatSentWhileHealthy = whileHealthy('sentPackets');
    return {
      fallbackAfterMs: fellBack === undefined ? null : fellBack.at - failedAt,
      failbackAfterMs: failedBack === undefined ? null : failedBack.at - healedAt,
      fallbackIp: fellBack?.ip ?? null,
      natgwIp: failedBack?.ip ?? natgwIp,
      flaps: Math.max(0, changes - 2),
      transitions: await transitionsOf(lab.watcher),
      cloudNatSentWhileHealthy,
      cloudNatPacketsWhileHealthy,
      ...(cloudNatPacketsWhileHealthy === 0 ? {} : { cloudNatEvidence: await capture.evidence(windows, sampler.samples, lab.watcherLog) }),
      flapToggles: options.flapToggles,
    };
  } finally {
    await sampler.stop();
    await capture.close();
  }
}

export interface CloudNatWindow {
  name: string;
  from: number;
  until: number;
  /** What each VM with packets in the window sent through Cloud NAT, and all of its packets there. */
  byVm: Map<string, { sentPackets: number; packets: number }>;
}

/** The fabric's Cloud NAT counters over a window: `after` less `before` (undefined: from the lab's start). */
export function cloudNatWindow(
  name: string,
  from: number,
  until: number,
  before: CloudNatCounters | undefined,
  after: CloudNatCounters,
): CloudNatWindow {
  const byVm = new Map<string, { sentPackets: number; packets: number }>();
  for (const [vm, { packets, sentPackets }] of after.byVm) {
    const earlier = before?.byVm.get(vm);
    const delta = { sentPackets: sentPackets - (earlier?.sentPackets ?? 0), packets: packets - (earlier?.packets ?? 0) };
    if (delta.packets > 0) byVm.set(vm, delta);
  }
  return { name, from, until, byVm };
}

/**
 * Headers of every packet through Cloud NAT's IP on the internet side of the fabric, for the whole measurement: read
 * only when Cloud NAT carried something while natgw was healthy (counters alone say how many, not which flow or when).
 */
async function captureCloudNat(lab: FallbackLab) {
  const startedAt = Date.now();
  const file = path.join(lab.cloud.lab.dir, 'capture-cloud-nat.pcap');
  const [tcpdump] = await startCaptures(
    lab.cloud.lab,
    [{ name: 'internet side', namespace: lab.cloud.lab.fabric, device: 'wan', file, filter: `host ${lab.cloudNatIp()}` }],
    900,
    'Cloud NAT',
  );
  return {
    startedAt,
    async evidence(windows: CloudNatWindow[], samples: readonly PathSample[], watcherLog: string[]) {
      return cloudNatEvidence(await readCapture(file), windows, samples, watcherLog);
    },
    close: async () => {
      await tcpdump?.stop();
    },
  };
}

type PathSample = { at: number; path: string; ip: string | undefined };

/**
 * What explains packets counted on Cloud NAT while natgw was healthy: per window with any, the VMs' counts, the
 * capture's packets in it (`tcpdump -r -n -tt` lines), and around the first one the tagged VM's samples and the
 * watcher's lines (each starting with its ISO time).
 */
export function cloudNatEvidence(
  captureLines: readonly string[],
  windows: readonly CloudNatWindow[],
  samples: readonly PathSample[],
  watcherLog: readonly string[],
): string[] {
  const at = (ms: number) => new Date(ms).toISOString().slice(11, 23);
  const packets = captureLines.map((line) => ({
    at: Number(/^(\d+\.\d+)/.exec(line)?.[1] ?? 0) * 1000,
    line: line.replace(/^\d+\.\d+ /, ''),
  }));
  const lines: string[] = [];
  for (const window of windows) {
    const inside = packets.filter((packet) => packet.at >= window.from && packet.at <= window.until);
    if (window.byVm.size === 0 && inside.length === 0) continue;
    const byVm = [...window.byVm].map(([vm, counts]) => `${vm} ${counts.sentPackets}/${counts.packets}`).join(', ');
    lines.push(
      `${window.name} (${at(window.from)}-${at(window.until)} UTC): by VM (sent/all) ${byVm}; ${inside.length} packets on Cloud NAT's IP:`,
      ...inside.slice(0, 12).map((packet) => `  ${at(packet.at)} ${packet.line}`),
    );
    const [first] = inside;
    if (first === undefined) continue;
    const near = (ms: number) => Math.abs(ms - first.at) <= 3000;
    lines.push(
      "  the tagged VM's samples within 3 s of the first:",
      ...samples.filter((sample) => near(sample.at)).map((sample) => `    ${at(sample.at)} ${sample.path} ${sample.ip ?? '-'}`),
      "  the watcher's lines within 10 s:",
      ...watcherLog.filter((line) => Math.abs(Date.parse(line.slice(0, 24)) - first.at) <= 10_000).map((line) => `    ${line}`),
    );
  }
  return lines;
}

export function describeFallback(report: FallbackReport): string[] {
  const seconds = (ms: number | null) => (ms === null ? 'never' : `${(ms / 1000).toFixed(1)} s`);
  return [
    `fallback to Cloud NAT (${report.fallbackIp ?? '?'}): ${seconds(report.fallbackAfterMs)} after every NAT VM failed`,
    `failback to natgw (${report.natgwIp ?? '?'}): ${seconds(report.failbackAfterMs)} after natgw was healthy again`,
    `route moves by the watcher: ${report.transitions.fallback} fallback, ${report.transitions.failback} failback; extra path changes (flaps): ${report.flaps}`,
    `one NAT VM down and up ${report.flapToggles} times: no move expected`,
    `packets VMs sent through Cloud NAT while natgw was healthy: ${report.cloudNatSentWhileHealthy} (all packets, the internet's included: ${report.cloudNatPacketsWhileHealthy})`,
    ...(report.cloudNatEvidence ?? []),
  ];
}

/** What the issue promises: fallback within 90 s, failback within 120 s, no flapping, Cloud NAT idle while natgw serves. */
export function fallbackKeptPromises(report: FallbackReport): boolean {
  return (
    report.fallbackAfterMs !== null &&
    report.fallbackAfterMs <= 90_000 &&
    report.failbackAfterMs !== null &&
    report.failbackAfterMs <= 120_000 &&
    report.flaps === 0 &&
    report.transitions.fallback === 1 &&
    report.transitions.failback === 1 &&
    report.cloudNatSentWhileHealthy === 0
  );
}

/** `natgw lab fallback`: build, measure, report, tear down. Exit 0 when every promise held. */
export async function runFallbackCommand(
  say: (line: string) => void,
  onReport: (report: FallbackReport) => void,
  options: { flapToggles?: number } = {},
): Promise<number> {
  say(
    `natgw lab fallback: natgw provision --ha with a Cloud NAT fallback and the fallback watcher (every ${LAB_FALLBACK_TIMERS.intervalMs / 1000} s, fail-after ${LAB_FALLBACK_TIMERS.failAfterMs / 1000} s, hold-down ${LAB_FALLBACK_TIMERS.holdDownMs / 1000} s); every NAT VM fails, then heals`,
  );
  const lab = await buildFallbackLab((line) => say(`  ${line}`));
  try {
    const report = await runFallbackMeasurement(lab, { say: (line) => say(`  ${line}`), flapToggles: options.flapToggles ?? 6 });
    onReport(report);
    say('');
    for (const line of describeFallback(report)) say(line);
    const kept = fallbackKeptPromises(report);
    say(kept ? '\nthe fallback kept its promises' : '\nTHE FALLBACK DID NOT KEEP ITS PROMISES: see above');
    return kept ? 0 : 1;
  } finally {
    await lab.close();
  }
}
