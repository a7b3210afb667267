// Reads, compares, applies and removes the data plane. Rendering is pure (ruleset.ts, sysctl.ts); this module is the
// executor, and every command it runs goes through the injected runner.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AgentConfig } from './config.js';
import type { CommandRunner } from './runner.js';
import {
  CHAIN_PREFIX,
  JUMPS,
  SOURCE_SET,
  STAGING_SET,
  TABLES,
  jumpRule,
  normalizeSetMembers,
  renderRemovalInput,
  renderRestoreInput,
  renderRuleset,
  renderSetStagingInput,
  type Ruleset,
  type Table,
} from './ruleset.js';
import { SysctlFs, conntrackHashsize, globalSysctls, namespaceSysctls, renderSysctlConf, type Sysctl } from './sysctl.js';

export interface SavedTable {
  chains: string[];
  rules: string[];
}

/** Parses `iptables-save` output (with or without -c) into chains and rules per table, counters stripped. */
export function parseIptablesSave(text: string): Record<Table, SavedTable> {
  const tables: Record<Table, SavedTable> = { filter: { chains: [], rules: [] }, nat: { chains: [], rules: [] }, mangle: { chains: [], rules: [] } };
  let current: SavedTable | undefined;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/^\[\d+:\d+\] /, '');
    if (line.startsWith('*')) current = tables[line.slice(1) as Table];
    else if (current === undefined) continue;
    else if (line.startsWith(':')) current.chains.push(line.slice(1).split(' ')[0] ?? '');
    else if (line.startsWith('-A ')) current.rules.push(line);
  }
  return tables;
}

export interface DesiredState {
  ruleset: Ruleset;
  sysctls: Sysctl[];
  /** Settings the kernel only accepts in the initial network namespace; empty inside the lab. */
  globalSysctls: Sysctl[];
  hashsize?: number;
}

export interface Inspection {
  inSync: boolean;
  differences: string[];
}

export interface DataplaneOptions {
  run: CommandRunner;
  sysctlFs?: SysctlFs;
  /** Prefix for files the agent writes (the lab gives each VM its own). */
  root?: string;
  sysRoot?: string;
  warn?: (message: string, details?: Record<string, unknown>) => void;
}

const SYSCTL_CONF = 'etc/sysctl.d/99-natgw.conf';

export class Dataplane {
  readonly run: CommandRunner;
  readonly sysctlFs: SysctlFs;
  private readonly root: string;
  private readonly sysRoot: string;
  warn: (message: string, details?: Record<string, unknown>) => void;

  constructor(options: DataplaneOptions) {
    this.run = options.run;
    this.sysctlFs = options.sysctlFs ?? new SysctlFs();
    this.root = options.root ?? '/';
    this.sysRoot = options.sysRoot ?? '/sys';
    this.warn = options.warn ?? (() => undefined);
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
      this.warn('running in a child network namespace: nf_conntrack_max and the conntrack hash size are global to the kernel, so they are left as they are');
    }
    const global = inInitialNamespace ? globalSysctls(config, await this.sysctlFs.memoryBytes()) : [];
    const conntrackMax = global.find((entry) => entry.name === 'net.netfilter.nf_conntrack_max');
    return {
      ruleset: renderRuleset(config, egressInterface),
      sysctls: namespaceSysctls(config, egressInterface),
      globalSysctls: global,
      ...(conntrackMax === undefined ? {} : { hashsize: conntrackHashsize(Number(conntrackMax.value)) }),
    };
  }

  async saveTables(): Promise<Record<Table, SavedTable>> {
    const { stdout } = await this.run('read the live ruleset', 'iptables-save', []);
    return parseIptablesSave(stdout);
  }

  async liveSetMembers(name = SOURCE_SET): Promise<string[] | undefined> {
    const { stdout, exitCode } = await this.run(`read ipset ${name}`, 'ipset', ['list', name, '-o', 'save'], { okExitCodes: [1] });
    if (exitCode !== 0) return undefined;
    const members = stdout
      .split('\n')
      .filter((line) => line.startsWith(`add ${name} `))
      .map((line) => line.split(' ')[2] ?? '');
    return normalizeSetMembers(members);
  }

  /** Compares everything we own with what it should be; says what differs, in words a log reader can act on. */
  async inspect(desired: DesiredState): Promise<Inspection> {
    const differences: string[] = [];
    const live = await this.saveTables();
    for (const table of TABLES) {
      const want = desired.ruleset.chains[table];
      const have = live[table];
      for (const [chain, rules] of Object.entries(want)) {
        if (!have.chains.includes(chain)) {
          differences.push(`${table}: chain ${chain} is missing`);
          continue;
        }
        const liveRules = have.rules.filter((rule) => rule.startsWith(`-A ${chain} `));
        if (liveRules.join('\n') !== rules.join('\n')) {
          differences.push(`${table}: chain ${chain} has ${liveRules.length} rules that differ from the ${rules.length} wanted`);
        }
      }
      for (const chain of have.chains) {
        if (chain.startsWith(CHAIN_PREFIX) && !(chain in want)) differences.push(`${table}: stale chain ${chain}`);
      }
    }
    for (const jump of desired.ruleset.jumps) {
      const count = live[jump.table].rules.filter((rule) => rule === jumpRule(jump)).length;
      if (count !== 1) differences.push(`${jump.table}: jump '${jumpRule(jump)}' found ${count} times, wanted once`);
    }
    const members = await this.liveSetMembers();
    if (members === undefined) differences.push(`ipset ${SOURCE_SET} is missing`);
    else if (members.join(',') !== desired.ruleset.sourceSet.join(',')) {
      differences.push(`ipset ${SOURCE_SET} holds [${members.join(', ')}], wanted [${desired.ruleset.sourceSet.join(', ')}]`);
    }
    for (const entry of [...desired.sysctls, ...desired.globalSysctls]) {
      const value = await this.sysctlFs.read(entry);
      if (value !== entry.value) differences.push(`sysctl ${entry.name} is ${value ?? '(absent)'}, wanted ${entry.value}`);
    }
    return { inSync: differences.length === 0, differences };
  }

  /**
   * Makes the live state match: the staged set and the rules first (nothing changes if iptables-restore refuses), then
   * the set swap, the jumps and the sysctls. Forwarding is switched on last, when the rules restricting it are in place.
   */
  async apply(desired: DesiredState): Promise<void> {
    await this.run('stage the source ranges in an ipset', 'ipset', ['-exist', 'restore'], { input: renderSetStagingInput(desired.ruleset) });
    const live = await this.saveTables();
    const stale = Object.fromEntries(
      TABLES.map((table) => [table, live[table].chains.filter((chain) => chain.startsWith(CHAIN_PREFIX) && !(chain in desired.ruleset.chains[table]))]),
    ) as Record<Table, string[]>;
    try {
      await this.run('apply the ruleset', 'iptables-restore', ['--noflush'], { input: renderRestoreInput(desired.ruleset) + renderRemovalInput(stale) });
    } catch (error) {
      await this.run('drop the staged ipset', 'ipset', ['destroy', STAGING_SET], { okExitCodes: [1] });
      throw error;
    }
    await this.run('swap in the new source ranges', 'ipset', ['restore'], { input: `swap ${STAGING_SET} ${SOURCE_SET}\ndestroy ${STAGING_SET}\n` });
    await this.ensureJumps(live);
    await this.applySysctls(desired);
  }

  private async ensureJumps(live: Record<Table, SavedTable>): Promise<void> {
    for (const jump of JUMPS) {
      const count = live[jump.table].rules.filter((rule) => rule === jumpRule(jump)).length;
      if (count === 0) {
        await this.run(`insert the jump to ${jump.target}`, 'iptables', ['-t', jump.table, '-I', jump.builtinChain, '1', '-j', jump.target]);
      }
      for (let extra = count; extra > 1; extra--) {
        await this.run(`remove a duplicate jump to ${jump.target}`, 'iptables', ['-t', jump.table, '-D', jump.builtinChain, '-j', jump.target]);
      }
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
        this.warn('could not set the conntrack hash size; continuing', { error: String(error) });
      }
    }
    const conf = path.join(this.root, SYSCTL_CONF);
    await mkdir(path.dirname(conf), { recursive: true });
    await writeFile(conf, renderSysctlConf([...desired.sysctls, ...desired.globalSysctls]));
  }

  /** Removes every chain, jump, set and file of ours, and nothing else. Sysctl values stay until reboot. */
  async cleanup(): Promise<string[]> {
    const removed: string[] = [];
    const live = await this.saveTables();
    for (const table of TABLES) {
      for (const rule of live[table].rules) {
        const match = /^-A (\S+) -j (NATGW-\S+)$/.exec(rule);
        if (match === null || match[1]?.startsWith(CHAIN_PREFIX)) continue;
        await this.run(`remove the jump to ${match[2]}`, 'iptables', ['-t', table, '-D', match[1] ?? '', '-j', match[2] ?? '']);
        removed.push(`${table}: ${rule}`);
      }
    }
    const ours = Object.fromEntries(TABLES.map((table) => [table, live[table].chains.filter((chain) => chain.startsWith(CHAIN_PREFIX))])) as Record<Table, string[]>;
    const removal = renderRemovalInput(ours);
    if (removal !== '') {
      await this.run('remove our chains', 'iptables-restore', ['--noflush'], { input: removal });
      for (const table of TABLES) removed.push(...ours[table].map((chain) => `${table}: chain ${chain}`));
    }
    for (const set of [SOURCE_SET, STAGING_SET]) {
      const { exitCode } = await this.run(`destroy ipset ${set}`, 'ipset', ['destroy', set], { okExitCodes: [1] });
      if (exitCode === 0) removed.push(`ipset ${set}`);
    }
    await rm(path.join(this.root, SYSCTL_CONF), { force: true });
    return removed;
  }
}
