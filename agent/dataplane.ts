// Reads, compares, applies and removes the data plane. Rendering is pure (ruleset.ts, sysctl.ts); this module is the
// executor, and every command it runs goes through the injected runner.
import { readInterface } from './egress-interface.js';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { statefulRoles, systemLocalAddresses, type AgentConfig, type LocalAddresses } from './config.js';
import { findLegacyRuleset, isEmptyLegacy, removeLegacyRuleset } from './legacy-iptables.js';
import { readRuleCounters } from './collectors/rules.js';
import { CONNTRACKD_DIR } from './conntrackd.js';
import {
  compareShapes,
  describeForeignChain,
  foreignForwardChains,
  parseNftJson,
  tableShape,
  type RuleCounter,
  type TableShape,
} from './nft-state.js';
import {
  COUNTER,
  PORT_BLOCK_MAP,
  PORT_BLOCK_REFUSALS,
  SOURCE_SET,
  TABLE_FAMILY,
  TABLE_NAME,
  TABLE_REMOVAL,
  cidrToInterval,
  flowtableProbe,
  intervalToCidrs,
  renderPortBlockElements,
  PORT_BLOCK_CLASS,
  renderRuleset,
  subtractIntervals,
  type Interval,
  type PortBlockElement,
  type Ruleset,
} from './ruleset.js';
import type { CommandRunner } from './runner.js';
import { SysctlFs, conntrackHashsize, globalSysctls, namespaceSysctls, renderSysctlConf, type Sysctl } from './sysctl.js';
import { AGENT_PATHS } from '../common/protocol.js';
import { serial } from '../common/serial.js';

export interface DesiredState {
  ruleset: Ruleset;
  /** Identifies the rendered table: the reference listing taken after applying it is only valid for this hash. */
  hash: string;
  sysctls: Sysctl[];
  /** Settings the kernel only accepts in the initial network namespace; empty inside the lab. */
  globalSysctls: Sysctl[];
  hashsize?: number;
}

export interface Inspection {
  inSync: boolean;
  differences: string[];
}

export interface ForwardPath {
  ok: boolean;
  detail: string;
  warnings: string[];
}

export interface DataplaneOptions {
  run: CommandRunner;
  sysctlFs?: SysctlFs;
  /** Prefix for files the agent writes (the lab gives each VM its own). */
  root?: string;
  sysRoot?: string;
  warn?: (message: string, details?: Record<string, unknown>) => void;
  /** Which stateful member this VM is comes from its addresses (tests bring their own). */
  localAddresses?: LocalAddresses;
  /** The port the agent serves on when `--listen` overrides the config: the input chain guards that one. */
  agentPort?: number;
  /** Where the sysctls are persisted, when not ROOT/etc/sysctl.d/99-natgw.conf (`--sysctl-file`). */
  sysctlFile?: string;
}

const SYSCTL_CONF = AGENT_PATHS.sysctlConf;
/**
 * nft's own listing of the table we applied, so a restarted agent can tell drift from its config without re-applying.
 * Under /run: the unit may write there, and it goes with a reboot, as the table itself does.
 */
const REFERENCE_FILE = AGENT_PATHS.nftReference;
const TABLE_ARGS = ['table', TABLE_FAMILY, TABLE_NAME];

interface Reference {
  hash: string;
  shape: TableShape;
}

/** Port-block elements to add and remove between table replacements (Dataplane.updatePortBlocks). */
export interface PortBlockChange {
  add: PortBlockElement[];
  remove?: string[];
  /** Dynamic mode: the removed and re-added VMs also leave the block-size map (the added ones enter it with their size). */
  sized?: boolean;
  /** Also put back the elements their source holds that the live map lacks (someone removed them). */
  repair?: boolean;
}

export class Dataplane {
  readonly run: CommandRunner;
  readonly sysctlFs: SysctlFs;
  private readonly root: string;
  private readonly sysRoot: string;
  warn: (message: string, details?: Record<string, unknown>) => void;
  /** Standing conditions worth an operator's attention that do not make the NAT unhealthy (shown on /healthz). */
  readonly warnings = new Set<string>();
  private reference: Reference | undefined;
  private flowtableSupport = new Map<string, boolean>();
  private forwardSample: { admitted: number; translated: number } | undefined;
  private forwardBlocked: string | undefined;
  private legacyChecked = false;
  readonly localAddresses: LocalAddresses;
  private readonly agentPort: number | undefined;
  private readonly sysctlFile: string;
  private warnedAboutHashsize = false;
  /** The standing warning about an unreadable egress MTU, while there is one. */
  private mtuWarning: string | undefined;
  /** Every write to our table goes through here: a table replacement and an element update never interleave. */
  private readonly write = serial();
  /** The port-block map's elements as their manager computes them (usePortBlocks); every replacement carries them. */
  private portBlockElements: () => PortBlockElement[] = () => [];

  constructor(options: DataplaneOptions) {
    this.agentPort = options.agentPort;
    this.sysctlFile = options.sysctlFile ?? path.join(options.root ?? '/', SYSCTL_CONF);
    this.run = options.run;
    this.sysctlFs = options.sysctlFs ?? new SysctlFs();
    this.root = options.root ?? '/';
    this.sysRoot = options.sysRoot ?? '/sys';
    this.warn = options.warn ?? (() => undefined);
    this.localAddresses = options.localAddresses ?? systemLocalAddresses;
  }

  async detectEgressInterface(): Promise<string> {
    const { stdout } = await this.run('find the default route interface', 'ip', ['-j', 'route', 'show', 'default']);
    const routes = JSON.parse(stdout || '[]') as { dev?: string }[];
    const device = routes.find((route) => route.dev !== undefined)?.dev;
    if (device === undefined) throw new Error('no default route: cannot tell the egress interface (set "egressInterface" in the config)');
    return device;
  }

  private warnedAboutGlobals = false;

  async desiredState(config: AgentConfig, egressInterface: string): Promise<DesiredState> {
    const inInitialNamespace = await this.sysctlFs.inInitialNetworkNamespace();
    if (!inInitialNamespace && !this.warnedAboutGlobals) {
      this.warnedAboutGlobals = true;
      this.warn(
        'running in a child network namespace: nf_conntrack_max and the conntrack hash size are global to the kernel, so they are left as they are',
      );
    }
    const global = inInitialNamespace ? globalSysctls(config, await this.sysctlFs.memoryBytes()) : [];
    const conntrackMax = global.find((entry) => entry.name === 'net.netfilter.nf_conntrack_max');
    const flowtable = config.flowtableOffload && (await this.hasFlowtables(egressInterface));
    const stateful = config.stateful;
    const roles = stateful === undefined ? undefined : statefulRoles(stateful, this.localAddresses, 'config');
    const egressMtu = config.mssClamp === 'pmtu' ? await this.interfaceMtu(egressInterface) : undefined;
    const ruleset = renderRuleset(config, egressInterface, {
      flowtable,
      ...(egressMtu === undefined ? {} : { egressMtu }),
      ...(this.agentPort === undefined ? {} : { agentPort: this.agentPort }),
      ...(stateful === undefined || roles === undefined
        ? {}
        : {
            stateful: {
              natIp: stateful.natIp,
              syncPort: stateful.syncPort,
              selfIp: roles.self.ip,
              peerIp: roles.peer.ip,
              ports: roles.self.ports,
            },
          }),
    });
    return {
      ruleset,
      hash: createHash('sha256').update(ruleset.text).digest('hex').slice(0, 16),
      sysctls: namespaceSysctls(config, egressInterface),
      globalSysctls: global,
      ...(conntrackMax === undefined ? {} : { hashsize: conntrackHashsize(Number(conntrackMax.value)) }),
    };
  }

  /**
   * The MSS clamp's MTU (ruleset.ts mssClampValue), read at every render: a changed MTU re-renders the table. Whatever
   * keeps it from being read (no such interface yet, a failed or odd `ip`) leaves the clamp to the kernel's per-SYN
   * route lookup, said once as a warning: an optional number must not stop the table from being applied.
   */
  private async interfaceMtu(egressInterface: string): Promise<number | undefined> {
    let problem: string;
    try {
      const { mtu } = await readInterface(this.run, 'read the egress interface MTU', egressInterface);
      if (mtu !== undefined) {
        this.warnings.delete(this.mtuWarning ?? '');
        this.mtuWarning = undefined;
        return mtu;
      }
      problem = `ip -j -4 addr show dev ${egressInterface} gave no MTU`;
    } catch (error) {
      problem = (error as Error).message.split('\n')[0] ?? String(error);
    }
    const message = `the MSS clamp uses the kernel's per-SYN route lookup (rt mtu): the MTU of ${egressInterface} could not be read`;
    if (this.mtuWarning !== message) {
      this.mtuWarning = message;
      this.warnings.add(message);
      this.warn(message, { problem });
    }
    return undefined;
  }

  /** Asked once per interface with `nft -c` (the kernel checks, nothing is created); the answer cannot change without a reboot. */
  private async hasFlowtables(egressInterface: string): Promise<boolean> {
    const known = this.flowtableSupport.get(egressInterface);
    if (known !== undefined) return known;
    const { exitCode, stderr } = await this.run('check whether the kernel has nf_flow_table', 'nft', ['-c', '-f', '-'], {
      input: flowtableProbe(egressInterface),
      okExitCodes: [1],
    });
    const supported = exitCode === 0;
    this.flowtableSupport.set(egressInterface, supported);
    if (!supported) {
      const message = 'flowtableOffload is on, but this kernel has no flowtables (nf_flow_table): running without offload';
      this.warnings.add(message);
      this.warn(message, { nft: stderr.trim().split('\n')[0] });
    }
    return supported;
  }

  async listTable(): Promise<ReturnType<typeof parseNftJson> | undefined> {
    const { stdout, exitCode } = await this.run('read our nft table', 'nft', ['-j', 'list', ...TABLE_ARGS], { okExitCodes: [1] });
    return exitCode === 0 ? parseNftJson(stdout) : undefined;
  }

  private async loadReference(): Promise<Reference | undefined> {
    if (this.reference !== undefined) return this.reference;
    try {
      this.reference = JSON.parse(await readFile(path.join(this.root, REFERENCE_FILE), 'utf8')) as Reference;
    } catch {
      return undefined;
    }
    return this.reference;
  }

  /** Compares everything we own with what it should be; says what differs, in words a log reader can act on. */
  async inspect(desired: DesiredState): Promise<Inspection> {
    const live = await this.listTable();
    const reference = await this.loadReference();
    const differences: string[] = [];
    if (live === undefined) differences.push(`table ${TABLE_FAMILY} ${TABLE_NAME} is missing`);
    else if (reference?.hash !== desired.hash) differences.push(`table ${TABLE_FAMILY} ${TABLE_NAME} was not built from this config`);
    else differences.push(...compareShapes(reference.shape, tableShape(live)));
    for (const entry of [...desired.sysctls, ...desired.globalSysctls]) {
      const value = await this.sysctlFs.read(entry);
      if (value !== entry.value) differences.push(`sysctl ${entry.name} is ${value ?? '(absent)'}, wanted ${entry.value}`);
    }
    return { inSync: differences.length === 0, differences };
  }

  /**
   * Makes the live state match: the whole table in one transaction (nothing changes if nft refuses it), then what the
   * old iptables data plane left, then the flows of ranges that went, then the sysctls. Forwarding is switched on
   * last, when the table restricting it is in place.
   */
  async apply(desired: DesiredState): Promise<void> {
    // The ranges in force before this transaction: from our reference when it is current, else from the live table.
    const reference = await this.loadReference();
    const live = reference === undefined ? await this.listTable() : undefined;
    const previous =
      reference?.shape.sets[SOURCE_SET]?.elements ?? (live === undefined ? undefined : tableShape(live)?.sets[SOURCE_SET]?.elements);
    // The port-block elements go into the same transaction: clients with a block are never refused for lack of one.
    await this.write(() =>
      this.run('replace the nft table', 'nft', ['-f', '-'], {
        input: desired.ruleset.text + renderPortBlockElements(this.portBlockElements()),
      }),
    );
    const after = await this.listTable();
    const shape = after === undefined ? undefined : tableShape(after);
    if (shape === undefined) throw new Error(`table ${TABLE_FAMILY} ${TABLE_NAME} is missing right after nft applied it`);
    this.reference = { hash: desired.hash, shape };
    const referenceFile = path.join(this.root, REFERENCE_FILE);
    await mkdir(path.dirname(referenceFile), { recursive: true });
    await writeFile(referenceFile, JSON.stringify(this.reference));

    // Only an older agent creates these, and it is gone once we run: looking once per process is enough.
    if (!this.legacyChecked) {
      const legacy = await findLegacyRuleset(this.run);
      if (!isEmptyLegacy(legacy))
        this.warn('removed the iptables data plane of an older agent; the nft table replaces it', {
          removed: await removeLegacyRuleset(this.run, legacy),
        });
      this.legacyChecked = true;
    }

    if (previous !== undefined) await this.cutRemovedFlows(previous, desired.ruleset.sourceRanges.map(cidrToInterval));
    await this.applySysctls(desired);
  }

  /** Where the port-block map's elements come from: the port-block manager computes them, the data plane writes them. */
  usePortBlocks(elements: () => PortBlockElement[]): void {
    this.portBlockElements = elements;
  }

  /**
   * Adds and removes port-block elements in a transaction of their own, between table replacements; with `repair`,
   * also puts back the elements usePortBlocks' source holds that the live map lacks. Answers the addresses put back.
   */
  updatePortBlocks(purpose: string, change: PortBlockChange): Promise<string[]> {
    return this.write(async () => {
      const present = change.repair === true ? await this.mapKeys(PORT_BLOCK_MAP) : undefined;
      const sizedNow = change.sized === true ? await this.mapKeys(PORT_BLOCK_CLASS) : undefined;
      const repaired = present === undefined ? [] : this.portBlockElements().filter((element) => !present.has(element.vm));
      const add = [...change.add, ...repaired.filter((element) => !change.add.some((added) => added.vm === element.vm))];
      // Deleting an element the map lacks would fail the whole transaction.
      const remove = (change.remove ?? []).filter((vm) => !repaired.some((element) => element.vm === vm));
      if (add.length > 0 || remove.length > 0)
        await this.run(purpose, 'nft', ['-f', '-'], {
          input: renderPortBlockElements(add, remove, sizedNow ?? new Set()),
        });
      return repaired.map((element) => element.vm);
    });
  }

  /** The addresses a live port-block map holds; undefined without the map. */
  private async mapKeys(map: typeof PORT_BLOCK_MAP | typeof PORT_BLOCK_CLASS): Promise<Set<string> | undefined> {
    const { stdout, exitCode } = await this.run(`read the ${map} map`, 'nft', ['-j', 'list', 'map', TABLE_FAMILY, TABLE_NAME, map], {
      okExitCodes: [1],
    });
    if (exitCode !== 0) return undefined;
    const present = new Set<string>();
    for (const object of parseNftJson(stdout)) {
      const elements = (object.map as { elem?: unknown[] } | undefined)?.elem ?? [];
      for (const element of elements) if (Array.isArray(element) && typeof element[0] === 'string') present.add(element[0]);
    }
    return present;
  }

  /** Refusals for a full block, per client address, as the kernel counted them; empty without the set. */
  async portBlockRefusals(): Promise<Map<string, number>> {
    const refusals = new Map<string, number>();
    const { stdout, exitCode } = await this.run(
      'read port-block refusals',
      'nft',
      ['-j', 'list', 'set', TABLE_FAMILY, TABLE_NAME, PORT_BLOCK_REFUSALS],
      { okExitCodes: [1] },
    );
    if (exitCode !== 0) return refusals;
    for (const object of parseNftJson(stdout)) {
      for (const element of (object.set as { elem?: unknown[] } | undefined)?.elem ?? []) {
        const elem = (element as { elem?: { val?: unknown; counter?: { packets?: number } } }).elem;
        if (typeof elem?.val === 'string') refusals.set(elem.val, elem.counter?.packets ?? 0);
      }
    }
    return refusals;
  }

  /**
   * The fast path accepts a flow's packets on its conntrack state alone, so a range leaving the allow-list would keep
   * its open flows: deleting their entries sends their next packet through the allow-list, which drops it.
   */
  private async cutRemovedFlows(previous: Interval[], wanted: Interval[]): Promise<void> {
    for (const cidr of subtractIntervals(previous, wanted).flatMap(intervalToCidrs)) {
      await this.run(`cut the flows of ${cidr}, which left sourceRanges`, 'conntrack', ['-D', '-s', cidr], { okExitCodes: [1] });
    }
  }

  private async applySysctls(desired: DesiredState): Promise<void> {
    const forwarding = desired.sysctls.filter((entry) => entry.name === 'net.ipv4.ip_forward');
    const others = desired.sysctls.filter((entry) => entry.name !== 'net.ipv4.ip_forward');
    for (const entry of [...others, ...forwarding]) {
      if ((await this.sysctlFs.read(entry)) !== entry.value) await this.sysctlFs.write(entry);
    }
    for (const entry of desired.globalSysctls) {
      if ((await this.sysctlFs.read(entry)) === entry.value) continue;
      try {
        await this.sysctlFs.write(entry);
      } catch (error) {
        this.warn(`could not set global ${entry.name}; continuing`, { error: String(error) });
      }
    }
    if (desired.hashsize !== undefined) {
      try {
        await writeFile(path.join(this.sysRoot, 'module/nf_conntrack/parameters/hashsize'), `${desired.hashsize}\n`);
      } catch (error) {
        // The module parameter belongs to root (mode 0600), not to CAP_NET_ADMIN: the unprivileged agent never gets
        // it, and saying so at every apply would bury the log.
        if (!this.warnedAboutHashsize)
          this.warn('could not set the conntrack hash size (root only); continuing with the kernel default', { error: String(error) });
        this.warnedAboutHashsize = true;
      }
    }
    await mkdir(path.dirname(this.sysctlFile), { recursive: true });
    await writeFile(this.sysctlFile, renderSysctlConf([...desired.sysctls, ...desired.globalSysctls]));
  }

  /**
   * Whether forwarded traffic gets past everyone else's firewall. In nftables a drop in any base chain is final, so
   * our accept is not enough: connections we admit but that never reach our masquerade rule were dropped by another
   * chain, and that chain is named. Judged on the connections since the last verdict; with too few, the verdict stays.
   */
  async checkForwardPath(): Promise<ForwardPath> {
    const counters = await readRuleCounters(this.run).catch(() => new Map<string, RuleCounter>());
    const sample = { admitted: counters.get(COUNTER.newConnections)?.packets, translated: counters.get(COUNTER.translated)?.packets };
    const baseline = this.forwardSample;
    let admitted = 0;
    let translated = 0;
    if (sample.admitted === undefined || sample.translated === undefined) this.forwardSample = undefined;
    else if (baseline === undefined || sample.admitted < baseline.admitted || sample.translated < baseline.translated) {
      // No baseline yet, or the table was replaced and its counters restarted.
      this.forwardSample = { admitted: sample.admitted, translated: sample.translated };
    } else {
      admitted = sample.admitted - baseline.admitted;
      translated = sample.translated - baseline.translated;
      // Too few connections to judge: keep counting from the same baseline.
      if (translated > 0 || admitted >= 2) this.forwardSample = { admitted: sample.admitted, translated: sample.translated };
    }
    const { stdout } = await this.run('list the firewall chains', 'nft', ['-j', 'list', 'chains']);
    const dropPolicies = foreignForwardChains(parseNftJson(stdout)).filter((chain) => chain.policy === 'drop');
    const warnings = dropPolicies.map((chain) => `${describeForeignChain(chain)}: clients' traffic passes only where its rules accept it`);
    if (admitted >= 2 && translated <= 0) {
      const { stdout: ruleset } = await this.run('find the chain that drops forwarded traffic', 'nft', ['-j', 'list', 'ruleset']);
      const suspects = foreignForwardChains(parseNftJson(ruleset)).filter(
        (chain) => chain.policy === 'drop' || chain.droppingRules.length > 0,
      );
      this.forwardBlocked = `${admitted} connections admitted by natgw since the last check were dropped by another firewall (a drop in any nftables base chain is final): ${
        suspects.length === 0
          ? 'no dropping chain found on the forward or postrouting hooks'
          : suspects.map(describeForeignChain).join('; ')
      }`;
    } else if (translated > 0) this.forwardBlocked = undefined;
    return this.forwardBlocked === undefined
      ? { ok: true, detail: 'admitted connections are translated', warnings }
      : { ok: false, detail: this.forwardBlocked, warnings };
  }

  /** Removes our table, what an older agent left, and our files, and nothing else. Sysctl values stay until reboot. */
  async cleanup(): Promise<string[]> {
    const removed: string[] = [];
    if ((await this.listTable()) !== undefined) {
      await this.write(() => this.run('remove our nft table', 'nft', ['-f', '-'], { input: TABLE_REMOVAL }));
      removed.push(`nft table ${TABLE_FAMILY} ${TABLE_NAME}`);
    }
    removed.push(...(await removeLegacyRuleset(this.run, await findLegacyRuleset(this.run))));
    this.reference = undefined;
    await rm(path.join(this.root, REFERENCE_FILE), { force: true });
    await rm(this.sysctlFile, { force: true });
    await rm(path.join(this.root, CONNTRACKD_DIR), { recursive: true, force: true });
    await rm(path.join(this.root, AGENT_PATHS.portBlockState), { force: true });
    await rm(`${path.join(this.root, AGENT_PATHS.portBlockState)}.tmp`, { force: true });
    return removed;
  }
}
