import { readFile, readlink, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AgentConfig } from './config.js';

export interface Sysctl {
  /** The dotted name, as `sysctl` and /etc/sysctl.d spell it. */
  name: string;
  /** Segments under /proc/sys; an interface name may itself contain dots (VLANs), so it is not derived from `name`. */
  segments: string[];
  value: string;
}

const sysctl = (segments: string[], value: number | string): Sysctl => ({
  name: segments.join('.'),
  segments,
  value: String(value),
});

/** Settings that live in the network namespace: settable on a VM and inside the lab's namespaces alike. */
export function namespaceSysctls(config: AgentConfig, egressInterface: string): Sysctl[] {
  const t = config.timeouts;
  const conntrack = (name: string, value: number) => sysctl(['net', 'netfilter', `nf_conntrack_${name}`], value);
  return [
    sysctl(['net', 'ipv4', 'ip_forward'], 1),
    // One NIC: packets leave by the interface they came in on, which Linux would otherwise "correct" with redirects.
    sysctl(['net', 'ipv4', 'conf', 'all', 'send_redirects'], 0),
    sysctl(['net', 'ipv4', 'conf', 'default', 'send_redirects'], 0),
    sysctl(['net', 'ipv4', 'conf', egressInterface, 'send_redirects'], 0),
    // Cloud NAT applies one UDP timeout to every mapping; Linux has a second, longer one for "streams".
    conntrack('udp_timeout', t.udp),
    conntrack('udp_timeout_stream', t.udp),
    conntrack('tcp_timeout_established', t.tcpEstablished),
    conntrack('tcp_timeout_syn_sent', t.tcpTransitory),
    conntrack('tcp_timeout_syn_recv', t.tcpTransitory),
    conntrack('tcp_timeout_fin_wait', t.tcpTransitory),
    conntrack('tcp_timeout_close_wait', t.tcpTransitory),
    conntrack('tcp_timeout_last_ack', t.tcpTransitory),
    conntrack('tcp_timeout_time_wait', t.tcpTimeWait),
    conntrack('icmp_timeout', t.icmp),
    // Per-connection byte counts, for translation logs and per-VM figures.
    conntrack('acct', 1),
    // Stateful HA: state must come from the peer only. With pickup, a mid-stream packet reaching the standby before the
    // flow's replicated state becomes a new flow (from the standby's port half) that then blocks the replicated entry;
    // without it the packet goes out untranslated, GCE drops it, and the retransmission finds the state.
    ...(config.stateful === undefined ? [] : [conntrack('tcp_loose', 0)]),
  ];
}

/** ~1/16 of memory for conntrack entries (~320 bytes each), a power of two between 64 Ki and 4 Mi entries. */
export function conntrackMaxForMemory(memoryBytes: number): number {
  const entries = memoryBytes / 16 / 320;
  const power = 2 ** Math.floor(Math.log2(Math.max(entries, 1)));
  return Math.min(Math.max(power, 65_536), 4_194_304);
}

export function globalSysctls(config: AgentConfig, memoryBytes: number): Sysctl[] {
  return [sysctl(['net', 'netfilter', 'nf_conntrack_max'], config.conntrackMax ?? conntrackMaxForMemory(memoryBytes))];
}

/** Average chain length 4 is the kernel's own trade-off between lookup cost and table memory. */
export function conntrackHashsize(conntrackMax: number): number {
  return Math.max(Math.floor(conntrackMax / 4), 1024);
}

export class SysctlFs {
  constructor(readonly procRoot = '/proc') {}

  private file(entry: Sysctl): string {
    return path.join(this.procRoot, 'sys', ...entry.segments);
  }

  async read(entry: Sysctl): Promise<string | undefined> {
    try {
      return (await readFile(this.file(entry), 'utf8')).trim();
    } catch {
      return undefined;
    }
  }

  async write(entry: Sysctl): Promise<void> {
    await writeFile(this.file(entry), `${entry.value}\n`);
  }

  async memoryBytes(): Promise<number> {
    const meminfo = await readFile(path.join(this.procRoot, 'meminfo'), 'utf8');
    const match = /^MemTotal:\s+(\d+) kB/m.exec(meminfo);
    return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
  }

  /** Global conntrack settings belong to the initial network namespace; in any other the kernel refuses them. */
  async inInitialNetworkNamespace(): Promise<boolean> {
    try {
      const [own, init] = await Promise.all([
        readlink(path.join(this.procRoot, 'self', 'ns', 'net')),
        readlink(path.join(this.procRoot, '1', 'ns', 'net')),
      ]);
      return own === init;
    } catch {
      // PID 1's namespace links are root's to read. Unprivileged, ask the kernel's own answer instead: it makes the
      // global limit read-only (0444) in every namespace but the initial one.
      try {
        const { mode } = await stat(path.join(this.procRoot, 'sys', 'net', 'netfilter', 'nf_conntrack_max'));
        return (mode & 0o200) !== 0;
      } catch {
        return false;
      }
    }
  }
}

/** The same settings for `sysctl --system` at boot; 99- sorts after GCE's own 60-gce-network-security.conf. */
export function renderSysctlConf(entries: Sysctl[]): string {
  return `# Written by natgw agent; removed by 'natgw agent --cleanup'.\n${entries.map((entry) => `${sysctlConfKey(entry)} = ${entry.value}`).join('\n')}\n`;
}

// sysctl.d accepts '/' as the separator, the only spelling that survives a dot inside an interface name.
function sysctlConfKey(entry: Sysctl): string {
  return entry.segments.some((segment) => segment.includes('.')) ? entry.segments.join('/') : entry.name;
}
