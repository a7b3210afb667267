// conntrackd's configuration for NAT VMs that share one NAT IP: FTFW (reliable, acknowledged) replication over UDP
// unicast — GCE has no multicast — with the external cache disabled, so the peer's states go straight into the kernel
// table and the survivor needs no commit (`conntrackd -c`) before the first reply arrives.
import path from 'node:path';

export const SYNC_PORT = 3780;

export interface ConntrackdPeer {
  /** Where the config, socket, lock and log go: one directory per NAT VM (conntrackd's defaults are host-wide). */
  dir: string;
  localIp: string;
  peerIp: string;
  interfaceName: string;
  /** Addresses whose own traffic is not NAT (health checks, the sync itself): not worth replicating. */
  ignoreAddresses: string[];
}

export function conntrackdConfig(peer: ConntrackdPeer): string {
  return `Sync {
	Mode FTFW {
		DisableExternalCache On
		StartupResync On
		ResendQueueSize 131072
	}
	UDP {
		IPv4_address ${peer.localIp}
		IPv4_Destination_Address ${peer.peerIp}
		Port ${SYNC_PORT}
		Interface ${peer.interfaceName}
		SndSocketBuffer 1249280
		RcvSocketBuffer 1249280
		Checksum on
	}
}
General {
	HashSize 32768
	HashLimit 131072
	LogFile ${path.join(peer.dir, 'conntrackd.log')}
	Syslog off
	LockFile ${path.join(peer.dir, 'conntrackd.lock')}
	UNIX {
		Path ${conntrackdSocket(peer.dir)}
		Backlog 20
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
${['127.0.0.1', ...peer.ignoreAddresses].map((ip) => `\t\t\tIPv4_address ${ip}`).join('\n')}
		}
	}
}
`;
}

export function conntrackdSocket(dir: string): string {
  return path.join(dir, 'conntrackd.sock');
}
