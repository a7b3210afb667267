// conntrackd for NAT VMs that share one NAT IP: FTFW (reliable, acknowledged) replication over UDP unicast — GCE has
// no multicast — with the external cache disabled, so the peer's states go straight into the kernel table and the
// survivor needs no commit (`conntrackd -c`) before the first reply arrives. Rendering and parsing are pure; the
// process itself is run by the stateful supervisor (stateful.ts).
import path from 'node:path';
import { AGENT_PATHS, SYNC_PORT, SYNC_SOCKET_BUFFER_BYTES } from '../common/protocol.js';

export const DEFAULT_SYNC_PORT = SYNC_PORT;
/** Under the VM root: conntrackd's own defaults (/var/lock, /var/run) are host-wide, one per machine. */
export const CONNTRACKD_DIR = AGENT_PATHS.conntrackdDir;

export interface ConntrackdPeer {
  /** Where the config, socket, lock and log go: one directory per NAT VM. */
  dir: string;
  localIp: string;
  peerIp: string;
  interfaceName: string;
  syncPort?: number;
  /** Addresses whose own traffic is not NAT (the VM's own, health checks, the sync itself): not worth replicating. */
  ignoreAddresses: string[];
}

export const conntrackdFiles = (dir: string) => ({
  config: path.join(dir, 'conntrackd.conf'),
  socket: path.join(dir, 'conntrackd.sock'),
  lock: path.join(dir, 'conntrackd.lock'),
  log: path.join(dir, 'conntrackd.log'),
});

export function conntrackdConfig(peer: ConntrackdPeer): string {
  const files = conntrackdFiles(peer.dir);
  const ignore = [...new Set(['127.0.0.1', ...peer.ignoreAddresses])];
  return `Sync {
	Mode FTFW {
		DisableExternalCache On
		StartupResync On
		ResendQueueSize 131072
	}
	UDP {
		IPv4_address ${peer.localIp}
		IPv4_Destination_Address ${peer.peerIp}
		Port ${peer.syncPort ?? DEFAULT_SYNC_PORT}
		Interface ${peer.interfaceName}
		SndSocketBuffer ${SYNC_SOCKET_BUFFER_BYTES}
		RcvSocketBuffer ${SYNC_SOCKET_BUFFER_BYTES}
		Checksum on
	}
}
General {
	HashSize 32768
	HashLimit 131072
	LogFile ${files.log}
	Syslog off
	LockFile ${files.lock}
	UNIX {
		Path ${files.socket}
	}
	NetlinkBufferSize 2097152
	NetlinkBufferSizeMaxGrowth 8388608
	NetlinkOverrunResync On
	Filter From Userspace {
		Protocol Accept {
			TCP
			UDP
			ICMP
		}
		Address Ignore {
${ignore.map((ip) => `\t\t\tIPv4_address ${ip}`).join('\n')}
		}
	}
}
`;
}

export interface ConntrackdStats {
  /** FTFW messages the peer sent that never arrived ("message tracking: Lost msgs" of `conntrackd -s`). */
  lostMessages?: number;
  /** Messages waiting for the peer's ack, to be resent if it asks ("queue rsqueue: current elements" of `-s queue`). */
  resendQueueLength?: number;
}

/**
 * `conntrackd -s` (general) and `conntrackd -s queue` output as conntrackd 1.4.x prints it (fixtures in
 * test/fixtures/conntrackd/). A figure that is absent stays undefined: a later conntrackd may print it differently.
 */
export function parseConntrackdStats(general: string, queue: string): ConntrackdStats {
  const lost = /^message tracking:\s*\n\s*\d+ Malformed msgs\s+(\d+) Lost msgs/m.exec(general);
  const resend = /^queue rsqueue:\s*\ncurrent elements:\s*(\d+)/m.exec(queue);
  return {
    ...(lost?.[1] === undefined ? {} : { lostMessages: Number(lost[1]) }),
    ...(resend?.[1] === undefined ? {} : { resendQueueLength: Number(resend[1]) }),
  };
}
