// An in-memory netfilter for unit tests without root: nft tables (ours and foreign ones) with the `nft -f` / `nft -j
// list` / delete semantics the agent relies on, an older agent's iptables chains and ipsets, conntrack deletions, and
// a record of every command. Only the syntax our renderer writes is understood; anything else is a failed transaction.
import type { CommandRunner, RunOptions, RunResult } from '../../agent/runner.js';
import { CommandError } from '../../agent/runner.js';
import { SysctlFs, type Sysctl } from '../../agent/sysctl.js';

/** Sysctls in a map, as a child network namespace sees them (no global conntrack settings). */
export class MemorySysctls extends SysctlFs {
  values = new Map<string, string>();
  override async read(entry: Sysctl) {
    return this.values.get(entry.name);
  }
  override async write(entry: Sysctl) {
    this.values.set(entry.name, entry.value);
  }
  override async inInitialNetworkNamespace() {
    return false;
  }
}

interface FakeRule {
  text: string;
  comment?: string;
  handle: number;
  /** What its anonymous `counter` holds (a rule with one). */
  counted?: { packets: number; bytes: number };
}

interface FakeChain {
  name: string;
  base?: { type: string; hook: string; prio: number; policy: string };
  rules: FakeRule[];
}

export interface FakeTable {
  family: string;
  name: string;
  chains: FakeChain[];
  sets: { name: string; type: string; flags: string[]; size?: number; elements: string[] }[];
  counters: { name: string; packets: number; bytes: number }[];
  flowtables: { name: string; hook: string; prio: number; devices: string[] }[];
  /** Port-block maps: key → data, as `add element` / `delete element` leave them. */
  maps?: { name: string; definition: string; elements: Record<string, string> }[];
}

const PRIORITIES: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };

function parsePriority(text: string): number {
  const match = /^(-?\d+|[a-z]+)(?:\s*([+-])\s*(\d+))?$/.exec(text.trim());
  if (match === null) throw new Error(`bad priority ${text}`);
  const base = /^-?\d+$/.test(match[1] ?? '') ? Number(match[1]) : PRIORITIES[match[1] ?? ''];
  if (base === undefined) throw new Error(`unknown priority ${text}`);
  return base + (match[2] === '-' ? -1 : 1) * Number(match[3] ?? 0);
}

const elementJson = (element: string) => {
  const [addr, len] = element.split('/');
  return len === undefined ? addr : { prefix: { addr, len: Number(len) } };
};

export class FakeNetfilter {
  tables: FakeTable[] = [];
  /** Open translated connections per client address: the NAT ports `conntrack -L --orig-src` lists for it. */
  connections = new Map<string, number[]>();
  /** What the kernel counted in the port-block refusals set, per client address. */
  refusals = new Map<string, number>();
  /** iptables-save output of an older agent (or anyone); removal commands edit it. */
  iptablesSave = '';
  ipsets: string[] = [];
  iptablesInstalled = true;
  flowtablesSupported = false;
  /** The MTU `ip -j -4 addr show dev ens4` gives (GCE's default VPC MTU); undefined: an answer without one. */
  egressMtu: number | undefined = 1460;
  conntrackDeleted: string[] = [];
  /** What `conntrack -L --mark` (the overflow-marked entries) lists, as conntrack prints it. */
  overflowListing = '';
  /** Set: `conntrack -L --mark` fails as conntrack does (exit code 1, this on stderr) until cleared. */
  overflowListingError: string | undefined;
  commands: string[] = [];
  private handle = 1;
  private failures: RegExp[] = [];

  /** The next command whose line matches fails as the real one would, changing nothing. */
  failNext(pattern: RegExp): void {
    this.failures.push(pattern);
  }

  table(family: string, name: string): FakeTable | undefined {
    return this.tables.find((table) => table.family === family && table.name === name);
  }

  /** The anonymous counter of our table's rule with this comment, to change as traffic would. */
  ruleCounter(comment: string): { packets: number; bytes: number } {
    const rule = this.table('ip', 'natgw')
      ?.chains.flatMap((chain) => chain.rules)
      .find((candidate) => candidate.comment === comment);
    if (rule?.counted === undefined) throw new Error(`fake netfilter: no rule "${comment}" with an anonymous counter`);
    return rule.counted;
  }

  snapshot(): string {
    return JSON.stringify({ tables: this.tables, iptablesSave: this.iptablesSave, ipsets: this.ipsets });
  }

  readonly run: CommandRunner = async (purpose, file, args, options: RunOptions = {}) => {
    const line = [file, ...args].join(' ');
    this.commands.push(line);
    const failure = this.failures.findIndex((pattern) => pattern.test(line));
    if (failure >= 0) {
      this.failures.splice(failure, 1);
      throw new CommandError(purpose, line, 1, 'Error: injected failure');
    }
    const result = this.dispatch(file, args, options.input ?? '');
    if (result.exitCode !== 0 && !(options.okExitCodes ?? []).includes(result.exitCode))
      throw new CommandError(purpose, line, result.exitCode, result.stderr);
    return result;
  };

  private dispatch(file: string, args: string[], input: string): RunResult {
    const ok = (stdout = ''): RunResult => ({ stdout, stderr: '', exitCode: 0 });
    const fail = (stderr: string, exitCode = 1): RunResult => ({ stdout: '', stderr, exitCode });
    const key = args.join(' ');
    if (file === 'ip' && key === '-j -4 addr show dev ens4')
      return ok(
        `[{"ifname":"ens4",${this.egressMtu === undefined ? '' : `"mtu":${this.egressMtu},`}"addr_info":[{"family":"inet","local":"10.10.0.2","prefixlen":24}]}]`,
      );
    if (file === 'conntrack' && args[0] === '-L' && args.includes('--mark'))
      // As conntrack does: exit code 0 with no entry too, the count on stderr.
      return this.overflowListingError !== undefined
        ? fail(this.overflowListingError)
        : { stdout: this.overflowListing, stderr: 'conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown.', exitCode: 0 };
    if (file === 'conntrack' && args[0] === '-L') {
      const vm = args[args.indexOf('--orig-src') + 1] ?? '';
      const ports = this.connections.get(vm) ?? [];
      return {
        exitCode: 0,
        stdout: ports
          .map(
            (port) =>
              `udp      17 29 src=${vm} dst=198.51.100.10 sport=40000 dport=7007 src=198.51.100.10 dst=10.10.0.2 sport=7007 dport=${port} mark=0 use=1\n`,
          )
          .join(''),
        stderr: '',
      };
    }
    if (file === 'ip' && key === '-j route show default') return ok('[{"dst":"default","gateway":"10.10.0.1","dev":"ens4"}]');
    if (file === 'nft') {
      if (key === '-c -f -')
        return input.includes('flowtable') && !this.flowtablesSupported
          ? fail('Error: Could not process rule: No such file or directory')
          : ok();
      if (key === '-f -') {
        try {
          this.transaction(input);
          return ok();
        } catch (error) {
          return fail(`Error: ${(error as Error).message}`);
        }
      }
      const listMap = /^-j list (map|set) (\S+) (\S+) (\S+)$/.exec(key);
      if (listMap !== null) {
        const table = this.table(listMap[2] ?? '', listMap[3] ?? '');
        const map = table?.maps?.find((candidate) => candidate.name === listMap[4]);
        if (listMap[1] === 'set') {
          const refusals = [...this.refusals.entries()].map(([vm, packets]) => ({
            elem: { val: vm, counter: { packets, bytes: packets * 60 } },
          }));
          return table === undefined
            ? fail('Error: No such file or directory')
            : ok(this.json([{ set: { name: listMap[4], elem: refusals } }]));
        }
        if (map === undefined) return fail('Error: No such file or directory');
        return ok(this.json([{ map: { name: map.name, elem: Object.entries(map.elements).map(([vm, data]) => [vm, data]) } }]));
      }
      const list = /^-j (-t )?list table (\S+) (\S+)$/.exec(key);
      if (list !== null) {
        const table = this.table(list[2] ?? '', list[3] ?? '');
        if (table === undefined) return fail(`Error: No such file or directory\nlist table ${list[2]} ${list[3]}`);
        return ok(this.json(this.tableObjects(table, { terse: list[1] !== undefined })));
      }
      if (key === '-j list chains')
        return ok(this.json(this.tables.flatMap((table) => this.tableObjects(table).filter((object) => 'chain' in object))));
      if (key === '-j list ruleset') return ok(this.json(this.tables.flatMap((table) => this.tableObjects(table))));
      return fail(`fake nft: unsupported ${key}`);
    }
    if (!this.iptablesInstalled && (file === 'iptables-save' || file === 'ipset' || file === 'iptables' || file === 'iptables-restore')) {
      throw new CommandError(`run ${file}`, [file, ...args].join(' '), undefined, 'ENOENT');
    }
    if (file === 'iptables-save') return ok(this.iptablesSave);
    if (file === 'ipset' && key === 'list -n') return ok(this.ipsets.map((name) => `${name}\n`).join(''));
    if (file === 'ipset' && args[0] === 'destroy') {
      if (!this.ipsets.includes(args[1] ?? '')) return fail('ipset v7.17: The set with the given name does not exist');
      this.ipsets = this.ipsets.filter((name) => name !== args[1]);
      return ok();
    }
    if (file === 'iptables' && args[2] === '-D') {
      const rule = `-A ${args[3]} -j ${args[5]}`;
      this.iptablesSave = this.iptablesSave
        .split('\n')
        .filter((line) => line.replace(/^\[\d+:\d+\] /, '') !== rule)
        .join('\n');
      return ok();
    }
    if (file === 'iptables-restore' && key === '--noflush') {
      const deleted = [...input.matchAll(/^-X (\S+)$/gm)].map((match) => match[1]);
      this.iptablesSave = this.iptablesSave
        .split('\n')
        .filter(
          (line) => !deleted.some((chain) => line.startsWith(`:${chain} `) || line.replace(/^\[\d+:\d+\] /, '').startsWith(`-A ${chain} `)),
        )
        .join('\n');
      return ok();
    }
    if (file === 'conntrack' && args[0] === '-D') {
      this.conntrackDeleted.push(args[2] ?? '');
      return fail('conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.');
    }
    return fail(`fake: unsupported command ${file} ${key}`);
  }

  private json(objects: object[]): string {
    return JSON.stringify({ nftables: [{ metainfo: { version: '1.0.6', release_name: 'fake', json_schema_version: 1 } }, ...objects] });
  }

  /** terse: as `nft -t`, without set elements. */
  private tableObjects(table: FakeTable, { terse = false } = {}): Record<string, Record<string, unknown>>[] {
    const where = { family: table.family, table: table.name };
    return [
      { table: { family: table.family, name: table.name, handle: 1 } },
      ...table.counters.map((counter) => ({
        counter: { ...where, name: counter.name, handle: 0, packets: counter.packets, bytes: counter.bytes },
      })),
      ...table.sets.map((set) => ({
        set: {
          ...where,
          name: set.name,
          type: set.type,
          handle: 0,
          ...(set.flags.length === 0 ? {} : { flags: set.flags }),
          ...(set.size === undefined ? {} : { size: set.size }),
          ...(set.elements.length === 0 || terse ? {} : { elem: set.elements.map(elementJson) }),
        },
      })),
      ...table.flowtables.map((flowtable) => ({
        flowtable: { ...where, name: flowtable.name, hook: flowtable.hook, prio: flowtable.prio, dev: flowtable.devices },
      })),
      ...table.chains.map((chain) => ({
        chain: { ...where, name: chain.name, handle: 0, ...(chain.base === undefined ? {} : chain.base) },
      })),
      ...table.chains.flatMap((chain) =>
        chain.rules.map((rule) => ({
          rule: {
            ...where,
            chain: chain.name,
            handle: rule.handle,
            ...(rule.comment === undefined ? {} : { comment: rule.comment }),
            expr: ruleExpr(rule.text, rule.counted),
          },
        })),
      ),
    ];
  }

  /** All or nothing, as the kernel commits an `nft -f` batch. */
  private transaction(input: string): void {
    const next = structuredClone(this.tables);
    const lines = input
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    for (let index = 0; index < lines.length; index++) {
      const line = lines[index] ?? '';
      const declare = /^table (\S+) (\S+)$/.exec(line);
      const remove = /^delete table (\S+) (\S+)$/.exec(line);
      const element = /^(add|delete) element (\S+) (\S+) (\S+) \{ (.*) \}$/.exec(line);
      if (element !== null) {
        const table = next.find((candidate) => candidate.family === element[2] && candidate.name === element[3]);
        const map = table?.maps?.find((candidate) => candidate.name === element[4]);
        const set = table?.sets.find((candidate) => candidate.name === element[4]);
        if (map === undefined && set === undefined) throw new Error(`No such file or directory: ${element[4]}`);
        for (const item of (element[5] ?? '').split(', ')) {
          const [vm = '', data] = item.split(' : ');
          if (map !== undefined) {
            if (element[1] === 'add') map.elements[vm] = data ?? '';
            else if (!(vm in map.elements)) throw new Error(`No such file or directory: element ${vm}`);
            else delete map.elements[vm];
          } else if (set !== undefined) {
            if (element[1] === 'add') set.elements = [...new Set([...set.elements, vm])];
            else set.elements = set.elements.filter((existing) => existing !== vm);
          }
        }
        continue;
      }
      const define = /^table (\S+) (\S+) \{$/.exec(line);
      if (declare !== null) {
        if (next.find((table) => table.family === declare[1] && table.name === declare[2]) === undefined)
          next.push(emptyTable(declare[1] ?? '', declare[2] ?? ''));
      } else if (remove !== null) {
        const at = next.findIndex((table) => table.family === remove[1] && table.name === remove[2]);
        if (at < 0) throw new Error(`No such file or directory: delete table ${remove[1]} ${remove[2]}`);
        next.splice(at, 1);
      } else if (define !== null) {
        const table =
          next.find((candidate) => candidate.family === define[1] && candidate.name === define[2]) ??
          emptyTable(define[1] ?? '', define[2] ?? '');
        if (!next.includes(table)) next.push(table);
        index = this.parseTableBody(table, lines, index + 1);
      } else throw new Error(`syntax error: ${line}`);
    }
    this.tables = next;
  }

  private parseTableBody(table: FakeTable, lines: string[], start: number): number {
    let index = start;
    for (; index < lines.length; index++) {
      const line = lines[index] ?? '';
      if (line === '}') return index;
      const counter = /^counter (\S+) \{ \}$/.exec(line);
      const dynamicSet = /^set (\S+) \{ type (\S+); size (\d+); flags (\S+); \}$/.exec(line);
      const set = /^set (\S+) \{$/.exec(line);
      const oneLineSet = /^set (\S+) \{ type ([^;]+);(?: size (\d+);)?(?: flags (\S+);)?(?: timeout \w+;)?( counter;)? \}$/.exec(line);
      const map = /^map (\S+) \{ (.*) \}$/.exec(line);
      const flowtable = /^flowtable (\S+) \{ hook (\S+) priority (\S+); devices = \{ (.*) \}; counter; \}$/.exec(line);
      const chainStart = /^chain (\S+) \{$/.exec(line);
      if (counter !== null) table.counters.push({ name: counter[1] ?? '', packets: 0, bytes: 0 });
      else if (map !== null) {
        table.maps ??= [];
        table.maps.push({ name: map[1] ?? '', definition: map[2] ?? '', elements: {} });
      } else if (dynamicSet === null && oneLineSet !== null) {
        table.sets.push({
          name: oneLineSet[1] ?? '',
          type: oneLineSet[2] ?? '',
          ...(oneLineSet[3] === undefined ? {} : { size: Number(oneLineSet[3]) }),
          flags: oneLineSet[4] === undefined ? [] : [oneLineSet[4]],
          elements: [],
        });
      } else if (dynamicSet !== null) {
        table.sets.push({
          name: dynamicSet[1] ?? '',
          type: dynamicSet[2] ?? '',
          size: Number(dynamicSet[3]),
          flags: [dynamicSet[4] ?? ''],
          elements: [],
        });
      } else if (set !== null) {
        const entry = { name: set[1] ?? '', type: '', flags: [] as string[], elements: [] as string[] };
        for (index++; (lines[index] ?? '}') !== '}'; index++) {
          const body = lines[index] ?? '';
          const definition = /^type (\S+); flags (\S+);$/.exec(body);
          const elements = /^elements = \{ (.*) \}$/.exec(body);
          if (definition !== null) [entry.type, entry.flags] = [definition[1] ?? '', [definition[2] ?? '']];
          else if (elements !== null) entry.elements = (elements[1] ?? '').split(', ');
          else throw new Error(`syntax error in set: ${body}`);
        }
        table.sets.push(entry);
      } else if (flowtable !== null) {
        if (!this.flowtablesSupported) throw new Error('Could not process rule: No such file or directory (flowtable)');
        table.flowtables.push({
          name: flowtable[1] ?? '',
          hook: flowtable[2] ?? '',
          prio: parsePriority(flowtable[3] ?? ''),
          devices: (flowtable[4] ?? '').split(', ').map((device) => device.replace(/"/g, '')),
        });
      } else if (chainStart !== null) {
        const chain: FakeChain = { name: chainStart[1] ?? '', rules: [] };
        for (index++; (lines[index] ?? '}') !== '}'; index++) {
          const body = lines[index] ?? '';
          const base = /^type (\S+) hook (\S+) priority (.+); policy (\S+);$/.exec(body);
          if (base !== null)
            chain.base = { type: base[1] ?? '', hook: base[2] ?? '', prio: parsePriority(base[3] ?? ''), policy: base[4] ?? '' };
          else {
            const comment = / comment "([^"]*)"$/.exec(body);
            const text = comment === null ? body : body.slice(0, comment.index);
            chain.rules.push({
              text,
              ...(comment === null ? {} : { comment: comment[1] }),
              handle: this.handle++,
              ...(ANONYMOUS_COUNTER.test(text) ? { counted: { packets: 0, bytes: 0 } } : {}),
            });
          }
        }
        table.chains.push(chain);
      } else throw new Error(`syntax error: ${line}`);
    }
    throw new Error('unterminated table');
  }
}

const ANONYMOUS_COUNTER = /\bcounter(?! name)\b/;

/**
 * nft lists a rule's verdict as an expression of its own ({"drop": null}), and an anonymous counter with its values
 * ({"counter": {"packets": 1, "bytes": 60}}); the rest stays text here.
 */
function ruleExpr(text: string, counted?: { packets: number; bytes: number }): object[] {
  const verdict = / (accept|drop|reject|return)$/.exec(text);
  const statements = verdict === null ? text : text.slice(0, verdict.index);
  return [
    { fake: statements },
    ...(counted === undefined ? [] : [{ counter: { ...counted } }]),
    ...(verdict === null ? [] : [{ [verdict[1] ?? '']: null }]),
  ];
}

function emptyTable(family: string, name: string): FakeTable {
  return { family, name, chains: [], sets: [], counters: [], flowtables: [] };
}
