// What the agent, the provisioner and the lab must agree on, written once: ports on the wire, NFLOG groups between
// the kernel's rules and their reader, the metadata and guest-attribute names the agent and the provisioner exchange,
// and the agent's files. Values only (no imports), so the agent's bundle and every other layer may import it.

/** conntrackd's state sync between the two NAT VMs of stateful HA (UDP; the firewall rule NAME-sync opens it). */
export const SYNC_PORT = 3780;
/**
 * conntrackd behind the agent's relay (agent/sync-relay.ts): it binds the sync port on `conntrackd` and sends to the
 * relay on `relay`, both loopback, so nothing outside the VM reaches it; the relay alone talks to the peer.
 */
export const SYNC_LOOPBACK = { conntrackd: '127.0.0.1', relay: '127.0.0.2' } as const;

/** The agent's HTTP port: /healthz, /livez, /metrics and the stateful peers' /sync/summary and /sync/key (TCP). */
export const AGENT_PORT = 9731;
/** The agent's default listen address. */
export const DEFAULT_AGENT_LISTEN = `0.0.0.0:${AGENT_PORT}`;

/**
 * Where Google's health checks come from (docs/security.md): the agent's input chain lets them reach its port. The
 * provisioner opens the same ranges in GCE's firewall (provision/model.ts; test/security.test.ts keeps them equal).
 */
export const HEALTH_CHECK_SOURCE_RANGES = ['35.191.0.0/16', '130.211.0.0/22'] as const;
/** An external passthrough Network Load Balancer's probes also come from these (stateful HA's shared NAT IP). */
export const NLB_HEALTH_CHECK_SOURCE_RANGES = ['209.85.152.0/22', '209.85.204.0/22'] as const;
/**
 * The holds (`/healthz/hold/MS`) that natgw's own load-balancer checks request (provision/ha/checks.ts): answered from
 * anywhere the input chain admits. Any other hold only from the VM itself, since a hold changes how the agent answers.
 */
export const PROBE_HOLDS_MS: readonly number[] = [850];

/**
 * NFLOG groups: each drop reason's rate-limited log (read by the drop-log collector), and the group through which the
 * kernel reports a client without a port block (read by the port-block manager).
 */
export const NFLOG_GROUP = {
  sourceNotAllowed: 4201,
  perVmCap: 4202,
  invalid: 4203,
  portBlockFull: 4205,
  portBlockLearn: 4210,
} as const;

/** Instance metadata the provisioner writes and the agent reads. */
export const METADATA = {
  /** The agent's JSON config. */
  config: 'natgw-config',
  /** sha256 of the published agent bundle; a change makes `--restart-on-new-bundle` restart into it. */
  bundleChecksum: 'natgw-agent-sha256',
  /** The gzipped, base64 bundle in chunks: `natgw-agent-0`, `natgw-agent-1`, … (the startup script joins them). */
  bundleChunkPrefix: 'natgw-agent-',
  /** The bundle's version, for `status`. */
  bundleVersion: 'natgw-agent-version',
} as const;

/** Guest attributes the agent writes and the provisioner reads (namespace `natgw/`). */
export const GUEST_ATTRIBUTE = {
  namespace: 'natgw/',
  health: 'natgw/health',
  sync: 'natgw/sync',
} as const;

/** The agent's files, relative to its root (`--root`, `/` on a NAT VM). */
export const AGENT_PATHS = {
  sysctlConf: 'etc/sysctl.d/99-natgw.conf',
  nftReference: 'run/natgw/nft-table.json',
  conntrackdDir: 'run/natgw/conntrackd',
  /** Under /var/lib: port blocks are attribution records, and a reboot must not forget who held which ports. */
  portBlockState: 'var/lib/natgw/port-blocks.json',
  /** Where the NAT VM's unit has the agent persist its sysctls (`--sysctl-file`); natgw-sysctl.service installs them. */
  stagedSysctls: 'var/lib/natgw/sysctl.conf',
} as const;

/** The bundled agent `npm run build` writes, relative to the repository. */
export const AGENT_BUNDLE_FILE = 'dist/agent/natgw-agent.mjs';

/** conntrackd's socket buffers, and the agent's relay's in front of it (a bulk resync comes in bursts). */
export const SYNC_SOCKET_BUFFER_BYTES = 1_249_280;
