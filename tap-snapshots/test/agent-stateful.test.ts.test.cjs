/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`test/agent-stateful.test.ts > TAP > conntrackd config golden: behind the relay, on loopback > must match snapshot 1`] = `
Sync {
	Mode FTFW {
		DisableExternalCache On
		StartupResync On
		ResendQueueSize 131072
	}
	UDP {
		IPv4_address 127.0.0.1
		IPv4_Destination_Address 127.0.0.2
		Port 3780
		Interface ens4
		SndSocketBuffer 1249280
		RcvSocketBuffer 1249280
		Checksum on
	}
}
General {
	HashSize 32768
	HashLimit 131072
	LogFile /run/natgw/conntrackd/conntrackd.log
	Syslog off
	LockFile /run/natgw/conntrackd/conntrackd.lock
	UNIX {
		Path /run/natgw/conntrackd/conntrackd.sock
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
			IPv4_address 127.0.0.1
			IPv4_address 10.10.0.2
		}
	}
}

`
