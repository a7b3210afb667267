// Per-VM port blocks at run time: learns new clients from the kernel (NFLOG group PORT_BLOCK_LEARN_GROUP), gives each a
// block, hands the NAT map's elements to the data plane (the one writer of our table: it adds them in a transaction
// of their own and carries them in every table replacement), keeps the table on disk so a restart keeps every block,
// and releases a block once its VM has had no connection on it for releaseAfterIdleSeconds. Until a client's
// block is in place its connections leave from the shared overflow ports (never dropped), and each becomes a one-port
// record naming its VM (agent/overflow-attribution.ts).
import { readInterface } from './egress-interface.js';
import { mkdir, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { AGENT_PATHS } from '../common/protocol.js';
import { serial } from '../common/serial.js';
import { writeFileAtomic } from './atomic-file.js';
import type { AgentConfig, PortAllocation } from './config.js';
import type { TableSummary } from './collectors/conntrack-table.js';
import { parseConntrackLine } from './collectors/conntrack-table.js';
import { SupervisedReader } from './collectors/supervised.js';
import type { PortBlockChange } from './dataplane.js';
import type { Logger } from './log.js';
import { OverflowAttribution, parseNflogLine } from './overflow-attribution.js';
import { PortSpace, appendToHistory, blockSize, toLogLine, type PortBlockRecord } from './port-blocks.js';
import { PORT_BLOCK_LEARN_GROUP, type PortBlockElement } from './ruleset.js';
import type { CommandRunner, LineSpawner } from './runner.js';

export const PORT_BLOCK_STATE_FILE = AGENT_PATHS.portBlockState;

interface Held extends PortBlockRecord {
  /** Last time the VM was seen with connections (ms); a block is released only after this is old enough. */
  lastActive: number;
  /** Dynamic mode: since when the VM has used at most a quarter of its block (ms). */
  lowSince?: number | undefined;
}

export interface StateFile {
  version: 1;
  current: Held[];
  retiring: Held[];
  history: PortBlockRecord[];
}

export interface PortBlockTable {
  mode: PortAllocation['mode'];
  natIp?: string;
  space: { totalPorts: number; usedPorts: number };
  refusedClients: number;
  blocks: PortBlockRecord[];
  history: PortBlockRecord[];
  /** Connections translated from the overflow ports, open ones and ended ones (newest last, bounded). */
  overflow: PortBlockRecord[];
}

/** What the manager needs of the data plane (agent/dataplane.ts), the only writer of our nft table. */
export interface PortBlockWriter {
  usePortBlocks(elements: () => PortBlockElement[]): void;
  updatePortBlocks(purpose: string, change: PortBlockChange): Promise<string[]>;
  portBlockRefusals(): Promise<Map<string, number>>;
}

export interface PortBlockManagerOptions {
  /** Reads only: the egress address, a VM's connections (conntrack). */
  run: CommandRunner;
  dataplane: PortBlockWriter;
  spawn: LineSpawner;
  log: Logger;
  root: string;
  now?: () => number;
}

/** The source address of a `tcpdump -n -i nflog:…` line. */
export function learntAddress(line: string): string | undefined {
  return /\bIP (\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})[.: ]/.exec(line)?.[1];
}

const isRecord = (value: unknown): value is PortBlockRecord =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as PortBlockRecord).vm === 'string' &&
  Number.isInteger((value as PortBlockRecord).first) &&
  Number.isInteger((value as PortBlockRecord).last) &&
  typeof (value as PortBlockRecord).since === 'string';

/** The state file's content, or what is wrong with it. */
export function parseStateFile(text: string): StateFile | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  const state = value as Partial<StateFile> | null;
  if (state === null || typeof state !== 'object' || state.version !== 1) return 'not a version 1 state file';
  for (const key of ['current', 'retiring', 'history'] as const) {
    const list = state[key] ?? [];
    if (!Array.isArray(list) || !list.every(isRecord)) return `"${key}" is not a list of port blocks`;
  }
  return { version: 1, current: state.current ?? [], retiring: state.retiring ?? [], history: state.history ?? [] } as StateFile;
}

export class PortBlockManager {
  private allocation: PortAllocation = { mode: 'shared' };
  private space = new PortSpace();
  private readonly current = new Map<string, Held>();
  private retiring: Held[] = [];
  private history: PortBlockRecord[] = [];
  private natAddress: string | undefined;
  private natIp: string | undefined;
  private loaded = false;
  private pending = new Set<string>();
  /** Dynamic mode: VMs the kernel reported over their block; each gets a block twice the size in the next flush. */
  private growing = new Set<string>();
  /**
   * Dynamic mode: when each VM's current block was in the kernel (its nft transaction done). A VM missing here has a
   * change in flight; its reports are about the block before.
   */
  private readonly inKernelSince = new Map<string, number>();
  private unsaved = false;
  /** VMs whose growth the full port space refused, logged once per episode. */
  private readonly growthRefusedNow = new Set<string>();
  private flushing: Promise<void> | undefined;
  /** Set when the state file was corrupt or unreadable at start: a /healthz warning until the agent restarts. */
  stateProblem: string | undefined;
  /** Clients refused because the port space was full (each address counted once per refusal episode). */
  refusedClients = 0;
  private readonly refusedNow = new Set<string>();
  private readonly reader: SupervisedReader;
  readonly overflow: OverflowAttribution;
  private readonly now: () => number;
  /** A config, a batch of new clients and a housekeeping round each see the blocks as the one before left them. */
  private readonly serialized = serial();

  constructor(private readonly options: PortBlockManagerOptions) {
    this.now = options.now ?? Date.now;
    options.dataplane.usePortBlocks(() => this.elements());
    this.reader = new SupervisedReader(
      {
        collector: 'port_block_learn',
        purpose: 'learn new clients that need a port block',
        file: 'tcpdump',
        // -Z root: tcpdump drops to user tcpdump by default, which the agent's unit (no CAP_SETUID/SETGID) refuses.
        args: ['-Z', 'root', '-l', '-q', '-n', '-tt', '-i', `nflog:${PORT_BLOCK_LEARN_GROUP}`],
      },
      options.spawn,
      options.log,
      (line, stream) => {
        if (stream !== 'stdout') return;
        // One parse: a TCP/UDP first packet (all the learn rule logs) names the client; learntAddress is the fallback.
        const packet = parseNflogLine(line);
        const address = packet?.src ?? learntAddress(line);
        if (address === undefined) return;
        this.noticed(address, packet?.time);
        if (packet !== undefined) this.overflow.firstPacket(packet);
      },
    );
    this.overflow = new OverflowAttribution({
      run: options.run,
      log: options.log,
      now: this.now,
      natIp: () => this.natIp,
      onClient: (vm) => this.learn(vm),
    });
  }

  get enabled(): boolean {
    return this.allocation.mode !== 'shared';
  }

  /** The learner is up and not dying over and over (SupervisedReader.healthy). */
  get learnerHealthy(): boolean {
    return this.reader.healthy;
  }

  get learnerError(): string | undefined {
    return this.reader.lastError;
  }

  get learnerOk(): boolean {
    return this.reader.ok;
  }

  private get stateFile(): string {
    return path.join(this.options.root, PORT_BLOCK_STATE_FILE);
  }

  private sizeForNewClient(): number {
    return this.allocation.mode === 'static'
      ? this.allocation.portsPerVm
      : this.allocation.mode === 'dynamic'
        ? this.allocation.minPortsPerVm
        : 0;
  }

  /** Called with every applied config, before the table is replaced (which carries elements()). */
  configure(config: AgentConfig, egressInterface: string, natExternalIp?: string): Promise<void> {
    return this.serialized(() => this.reconfigure(config, egressInterface, natExternalIp));
  }

  private async reconfigure(config: AgentConfig, egressInterface: string, natExternalIp?: string): Promise<void> {
    const previous = this.allocation;
    this.allocation = config.portAllocation;
    if (!this.enabled) {
      this.reader.stop();
      this.overflow.stop();
      if (previous.mode !== 'shared' || !this.loaded) {
        await this.load();
        const held = [...this.current.values(), ...this.retiring];
        for (const block of held) this.releaseHeld(block, 'port allocation is shared now');
        this.current.clear();
        this.inKernelSince.clear();
        this.retiring = [];
        // Only an agent that had blocks keeps a state file: the shared pool writes nothing.
        if (held.length > 0) await this.save();
      }
      return;
    }
    this.natAddress = await this.interfaceAddress(egressInterface);
    this.natIp = natExternalIp ?? this.natAddress;
    await this.load();
    // A block larger than the new static size (or outside the dynamic bounds) goes at once; its flows keep their ports.
    const allocation = this.allocation;
    for (const held of [...this.current.values()]) {
      const size = blockSize(held);
      const fits =
        held.natAddress === this.natAddress &&
        (allocation.mode === 'static'
          ? size === allocation.portsPerVm
          : allocation.mode === 'dynamic' && size >= allocation.minPortsPerVm && size <= allocation.maxPortsPerVm);
      if (!fits) {
        this.current.delete(held.vm);
        this.inKernelSince.delete(held.vm);
        this.retiring.push(held);
      }
    }
    await this.save();
    this.overflow.start();
    this.reader.start();
  }

  private async interfaceAddress(egressInterface: string): Promise<string> {
    const { address } = await readInterface(this.options.run, 'read the egress interface address', egressInterface);
    if (address === undefined) throw new Error(`interface ${egressInterface} has no IPv4 address: port blocks need one to translate to`);
    return address;
  }

  private async load(): Promise<void> {
    if (this.loaded) return;
    this.loaded = true;
    let text: string;
    try {
      text = await readFile(this.stateFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      this.stateProblem = `the port-block state ${this.stateFile} cannot be read (${(error as Error).message}): blocks and their history start empty`;
      this.options.log.error(
        { event: 'port_block_state_unreadable', file: this.stateFile, error: (error as Error).message },
        this.stateProblem,
      );
      return;
    }
    const state = parseStateFile(text);
    if (typeof state === 'string') {
      // Kept aside, never overwritten: it is the attribution record of every block it held.
      const aside = `${this.stateFile}.corrupt-${new Date(this.now()).toISOString().replace(/[:.]/g, '-')}`;
      await rename(this.stateFile, aside).catch(() => undefined);
      this.stateProblem = `the port-block state ${this.stateFile} is corrupt (${state}); kept aside as ${aside}, blocks and their history start empty`;
      this.options.log.error({ event: 'port_block_state_corrupt', file: this.stateFile, keptAs: aside, error: state }, this.stateProblem);
      return;
    }
    this.history = state.history;
    for (const held of [...state.current, ...state.retiring]) {
      if (!this.space.claim(held)) {
        this.options.log.warn({ event: 'port_block_state_conflict', block: held }, 'a saved port block overlaps another; dropped');
        continue;
      }
      // A restart is not idleness: the grace period starts again.
      const restored = { ...held, lastActive: this.now() };
      if (state.current.includes(held)) {
        this.current.set(held.vm, restored);
        this.markInKernel([held.vm]);
      } else this.retiring.push(restored);
    }
  }

  /**
   * After the kernel has the change: a failed write of the state file must not undo it in memory (the ports would be
   * handed out again while the kernel still translates to them); it is written again at the next housekeeping round.
   */
  private async saveOrWarn(): Promise<void> {
    try {
      await this.save();
      this.unsaved = false;
    } catch (error) {
      this.unsaved = true;
      this.options.log.error(
        { event: 'port_block_state_unsaved', file: this.stateFile, error: (error as Error).message },
        'could not write the port-block state; tried again at the next round',
      );
    }
  }

  private async save(): Promise<void> {
    const state: StateFile = { version: 1, current: [...this.current.values()], retiring: this.retiring, history: this.history };
    await mkdir(path.dirname(this.stateFile), { recursive: true });
    // A crash or kill at any instant leaves the old file or the new one (agent/atomic-file.ts).
    await writeFileAtomic(this.stateFile, JSON.stringify(state));
  }

  private element(held: Held): PortBlockElement {
    const size = blockSize(held);
    // Only sizes the table has a chain for: a block left over from another allocation (a reconfigure that failed
    // half-way) is translated as before, without the spill, rather than failing every table replacement.
    const sized = this.allocation.mode === 'dynamic' && size >= this.allocation.minPortsPerVm && size <= this.allocation.maxPortsPerVm;
    return { vm: held.vm, natAddress: held.natAddress, first: held.first, last: held.last, ...(sized ? { size } : {}) };
  }

  private markInKernel(vms: Iterable<string>): void {
    const now = this.now();
    for (const vm of vms) this.inKernelSince.set(vm, now);
  }

  private get sized(): boolean {
    return this.allocation.mode === 'dynamic';
  }

  /** The map's elements: the data plane writes them with every table replacement, so the map never runs without them. */
  elements(): PortBlockElement[] {
    return this.enabled ? [...this.current.values()].map((held) => this.element(held)) : [];
  }

  /** A client without a block was refused; it gets one in the next transaction (batched with others arriving now). */
  learn(vm: string): void {
    if (!this.enabled || this.current.has(vm)) return;
    this.pending.add(vm);
    this.scheduleFlush();
  }

  /**
   * A packet the kernel reported over PORT_BLOCK_LEARN_GROUP at `time`: a client without a block, or (dynamic mode) one
   * whose connection did not fit its block and left from the overflow ports. Only a report sent after the VM's
   * current block was in place grows it: reports still queued from before it (the client's first packets, the
   * smaller block's last spills) must not double it again.
   */
  noticed(vm: string, time: number | undefined): void {
    const held = this.current.get(vm);
    if (held === undefined) {
      this.learn(vm);
      return;
    }
    const inKernelSince = this.inKernelSince.get(vm);
    if (this.allocation.mode !== 'dynamic' || time === undefined || inKernelSince === undefined || time < inKernelSince) return;
    if (blockSize(held) >= this.allocation.maxPortsPerVm) return;
    this.growing.add(vm);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.serialized(() => this.flush()));
  }

  /** Moves a VM to a block of `wanted` ports (its old block retires with its flows); undefined when the space is full. */
  private moveTo(held: Held, wanted: number, now: number): Held | undefined {
    const ports = this.space.take(wanted);
    if (ports === undefined) return undefined;
    const next: Held = { ...held, ...ports, since: new Date(now).toISOString(), lastActive: now, lowSince: undefined };
    this.retiring.push({ ...held, lastActive: now });
    this.current.set(held.vm, next);
    return next;
  }

  /** Resolves once every client learnt so far has its block (or was refused). */
  async settled(): Promise<void> {
    while (this.flushing !== undefined) await this.flushing;
  }

  private async flush(): Promise<void> {
    const vms = [...this.pending].filter((vm) => !this.current.has(vm));
    this.pending.clear();
    const added: Held[] = [];
    const time = new Date(this.now()).toISOString();
    for (const vm of vms) {
      const ports = this.space.take(this.sizeForNewClient());
      if (ports === undefined) {
        if (!this.refusedNow.has(vm)) {
          this.refusedNow.add(vm);
          this.refusedClients++;
          this.options.log.warn(
            { event: 'port_block_refused', vm, nat_ip: this.natIp, time },
            'the port space is full: this client gets no port block and shares the overflow ports until a block is released',
          );
        }
        continue;
      }
      this.refusedNow.delete(vm);
      const held: Held = { vm, natIp: this.natIp!, natAddress: this.natAddress!, ...ports, since: time, lastActive: this.now() };
      this.current.set(vm, held);
      added.push(held);
    }
    try {
      if (added.length > 0) {
        await this.options.dataplane.updatePortBlocks(`add ${added.length} port blocks`, {
          add: added.map((held) => this.element(held)),
          sized: this.sized,
        });
        this.markInKernel(added.map((held) => held.vm));
        await this.saveOrWarn();
        for (const held of added)
          this.options.log.info(toLogLine('port_block_assigned', held, held.since), `port block ${held.first}-${held.last} for ${held.vm}`);
      }
    } catch (error) {
      for (const held of added) {
        this.current.delete(held.vm);
        this.space.free(held);
      }
      this.options.log.error(
        { event: 'port_block_apply_failed', error: (error as Error).message },
        'could not add port blocks; the clients retry',
      );
    }
    try {
      await this.growNoticed();
    } finally {
      this.flushing = this.pending.size > 0 || this.growing.size > 0 ? this.serialized(() => this.flush()) : undefined;
    }
  }

  private async growNoticed(): Promise<void> {
    const vms = [...this.growing];
    this.growing.clear();
    if (this.allocation.mode !== 'dynamic') return;
    const { maxPortsPerVm } = this.allocation;
    const now = this.now();
    const grown: { from: Held; to: Held }[] = [];
    for (const vm of vms) {
      const held = this.current.get(vm);
      if (held === undefined || blockSize(held) >= maxPortsPerVm) continue;
      const next = this.moveTo(held, blockSize(held) * 2, now);
      if (next === undefined) {
        if (!this.growthRefusedNow.has(vm))
          this.options.log.warn(
            { event: 'port_block_growth_refused', vm, ports: blockSize(held) * 2 },
            'the port space is full: this client keeps its block, and what does not fit leaves from the overflow ports',
          );
        this.growthRefusedNow.add(vm);
        continue;
      }
      this.growthRefusedNow.delete(vm);
      this.inKernelSince.delete(vm);
      grown.push({ from: held, to: next });
    }
    if (grown.length === 0) return;
    try {
      await this.options.dataplane.updatePortBlocks(`grow ${grown.length} port blocks`, {
        add: grown.map(({ to }) => this.element(to)),
        remove: grown.map(({ to }) => to.vm),
        sized: this.sized,
      });
    } catch (error) {
      for (const { from, to } of grown) {
        this.current.set(from.vm, from);
        this.retiring = this.retiring.filter((held) => held.vm !== from.vm || held.first !== from.first);
        this.space.free(to);
        this.markInKernel([from.vm]);
      }
      this.options.log.error(
        { event: 'port_block_apply_failed', error: (error as Error).message },
        'could not grow port blocks; their clients keep the overflow ports meanwhile',
      );
      return;
    }
    this.markInKernel(grown.map(({ to }) => to.vm));
    await this.saveOrWarn();
    for (const { to } of grown)
      this.options.log.info(
        { ...toLogLine('port_block_assigned', to, to.since), why: 'a connection did not fit the smaller block' },
        `port block ${to.first}-${to.last} for ${to.vm}`,
      );
  }

  private releaseHeld(held: Held, why: string): void {
    const time = new Date(this.now()).toISOString();
    const { lastActive: _lastActive, lowSince: _lowSince, ...record } = held;
    appendToHistory(this.history, { ...record, until: time });
    this.space.free(held);
    this.options.log.info(
      { ...toLogLine('port_block_released', held, time), since: held.since, why },
      `port block ${held.first}-${held.last} of ${held.vm} released: ${why}`,
    );
  }

  /** The NAT ports each VM's translated connections use now, from one read of its conntrack entries. */
  private async portsInUse(vm: string): Promise<number[]> {
    const { stdout } = await this.options.run(
      `list the connections of ${vm}`,
      'conntrack',
      // No entry is exit code 0; 1 is a failure, and must not read as "no connection" (that would release a block in use).
      ['-L', '-f', 'ipv4', '--orig-src', vm, '--src-nat'],
    );
    return stdout
      .split('\n')
      .map(parseConntrackLine)
      .flatMap((entry) => (entry?.reply.dport === undefined ? [] : [Number(entry.reply.dport)]));
  }

  /**
   * One housekeeping round, on the agent's reconcile period: puts back elements someone removed, resizes dynamic
   * blocks, and releases blocks idle past the grace period. `usage` is the latest conntrack sample, when there is one.
   */
  async tick(usage?: TableSummary): Promise<void> {
    if (!this.enabled) return;
    // Also the overflow listing's safety net: a connection whose first packet the learn rule's rate limit skipped is
    // found within one reconcile period, and its start bounded by the previous listing.
    await this.overflow.dump();
    await this.serialized(async () => {
      const now = this.now();
      const grace = this.allocation.mode === 'shared' ? 0 : this.allocation.releaseAfterIdleSeconds * 1000;
      const busy = new Map((usage?.vms ?? []).map((vm) => [vm.vm, vm]));
      let changed = false;
      const add: Held[] = [];
      const remove: string[] = [];
      for (const held of this.current.values()) if ((busy.get(held.vm)?.openConnections ?? 0) > 0) held.lastActive = now;

      if (this.allocation.mode === 'dynamic') {
        const { minPortsPerVm, maxPortsPerVm } = this.allocation;
        for (const held of [...this.current.values()]) {
          const portUsage = busy.get(held.vm)?.portUsage ?? 0;
          const size = blockSize(held);
          // Grow before the block is full (Cloud NAT doubles too); shrink only after a whole idle period at low use.
          let wanted = size;
          if (portUsage >= size * 0.75 && size < maxPortsPerVm) wanted = size * 2;
          else if (size > minPortsPerVm && portUsage <= size / 4 && now - (held.lowSince ?? now) >= grace)
            wanted = Math.max(minPortsPerVm, 2 ** Math.ceil(Math.log2(Math.max(1, portUsage * 2))));
          held.lowSince = portUsage <= size / 4 ? (held.lowSince ?? now) : undefined;
          if (wanted === size) continue;
          // The old block keeps its flows (conntrack holds their ports) and is released once they are gone.
          const next = this.moveTo(held, wanted, now);
          if (next === undefined) continue;
          this.inKernelSince.delete(held.vm);
          remove.push(held.vm);
          add.push(next);
          changed = true;
        }
      }

      // Candidates past the grace period are checked against conntrack itself before their ports go.
      for (const held of [...this.current.values()]) {
        if (now - held.lastActive < grace) continue;
        if ((await this.portsInUse(held.vm)).length > 0) {
          held.lastActive = now;
          continue;
        }
        this.current.delete(held.vm);
        this.inKernelSince.delete(held.vm);
        this.growthRefusedNow.delete(held.vm);
        this.releaseHeld(held, `no connection for ${grace / 1000}s`);
        if (!remove.includes(held.vm)) remove.push(held.vm);
        changed = true;
      }
      const stillRetiring: Held[] = [];
      for (const held of this.retiring) {
        const inUse = (await this.portsInUse(held.vm)).some((port) => port >= held.first && port <= held.last);
        if (inUse) held.lastActive = now;
        if (inUse || now - held.lastActive < grace) stillRetiring.push(held);
        else {
          this.releaseHeld(held, 'its VM moved to another block and its last connection here ended');
          changed = true;
        }
      }
      this.retiring = stillRetiring;

      const repaired = await this.options.dataplane.updatePortBlocks('update port blocks', {
        add: add.map((held) => this.element(held)),
        remove,
        sized: this.sized,
        repair: true,
      });
      this.markInKernel([...add.map((held) => held.vm), ...repaired]);
      if (repaired.length > 0)
        this.options.log.warn({ event: 'port_block_repaired', vms: repaired }, 'port-block map elements were missing; put back');
      for (const held of add.filter((held) => !repaired.includes(held.vm)))
        this.options.log.info(toLogLine('port_block_assigned', held, held.since), `port block ${held.first}-${held.last} for ${held.vm}`);
      if (changed || add.length > 0 || repaired.length > 0 || this.unsaved) await this.saveOrWarn();
    });
  }

  /** Refusals for a full block, per VM, as the kernel counted them. */
  async refusalsPerVm(): Promise<Map<string, number>> {
    return this.enabled ? this.options.dataplane.portBlockRefusals() : new Map<string, number>();
  }

  get warnings(): string[] {
    if (!this.enabled) return this.stateProblem === undefined ? [] : [this.stateProblem];
    if (this.stateProblem !== undefined) return [this.stateProblem];
    // Without the learner new clients stay on the shared overflow ports (their connections work, 4,096 ports for all).
    if (!this.reader.ok)
      return [
        `the reader of NFLOG group ${PORT_BLOCK_LEARN_GROUP} (tcpdump) is not running: new clients get no port block and share the overflow ports${this.reader.lastError === undefined ? '' : ` (${this.reader.lastError})`}`,
      ];
    if (!this.overflow.ok)
      return [
        `the overflow connections cannot be listed (conntrack -L failed ${this.overflow.failures} time(s) in a row): connections from the overflow ports are not attributed to their VMs (${this.overflow.lastError ?? 'unknown error'})`,
      ];
    const used = this.space.usedPorts / this.space.totalPorts;
    if (!this.space.hasRoomFor(this.sizeForNewClient()))
      return [`the port space of ${this.natIp ?? 'the NAT IP'} is full (${this.current.size} VMs hold blocks): new clients are refused`];
    return used >= 0.9 ? [`the port space of ${this.natIp ?? 'the NAT IP'} is ${Math.round(used * 100)} % used`] : [];
  }

  table(): PortBlockTable {
    const strip = ({ lastActive: _lastActive, lowSince: _lowSince, ...record }: Held): PortBlockRecord => record;
    return {
      mode: this.allocation.mode,
      ...(this.natIp === undefined ? {} : { natIp: this.natIp }),
      space: { totalPorts: this.space.totalPorts, usedPorts: this.space.usedPorts },
      refusedClients: this.refusedClients,
      blocks: [...this.current.values(), ...this.retiring].map(strip).sort((a, b) => a.first - b.first),
      history: this.history,
      overflow: this.overflow.records(),
    };
  }

  stop(): void {
    this.reader.stop();
    this.overflow.stop();
  }
}
