/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`test/ruleset.test.ts > TAP > dynamic port blocks of 64 to 1024, no logging > nft -f input 1`] = `
table ip natgw
delete table ip natgw
table ip natgw {
  counter translated { }
  counter agent_port_refused { }
  counter overflow { }
  counter drop_source_not_allowed { }
  counter log_source_not_allowed { }
  counter drop_per_vm_cap { }
  counter log_per_vm_cap { }
  counter drop_invalid { }
  counter log_invalid { }
  counter drop_port_block_full { }
  counter log_port_block_full { }
  set sources {
    type ipv4_addr; flags interval;
    elements = { 10.146.0.0/20 }
  }
  map port_blocks { type ipv4_addr : interval ipv4_addr . inet_service; flags interval; }
  set port_block_vms { type ipv4_addr; }
  set port_block_use { type ipv4_addr . ipv4_addr . inet_proto . inet_service; size 1048576; flags dynamic; }
  set port_block_refusals { type ipv4_addr; size 65535; flags dynamic; counter; }
  set port_block_learning { type ipv4_addr; size 65535; flags dynamic,timeout; timeout 1s; }
  map port_block_class { type ipv4_addr : verdict; }
  set port_block_growing { type ipv4_addr; size 65535; flags dynamic,timeout; timeout 1s; }
  set port_block_use_64 { type ipv4_addr . ipv4_addr . inet_proto . inet_service; size 1048576; flags dynamic; }
  set port_block_use_128 { type ipv4_addr . ipv4_addr . inet_proto . inet_service; size 1048576; flags dynamic; }
  set port_block_use_256 { type ipv4_addr . ipv4_addr . inet_proto . inet_service; size 1048576; flags dynamic; }
  set port_block_use_512 { type ipv4_addr . ipv4_addr . inet_proto . inet_service; size 1048576; flags dynamic; }
  chain port_block_spill {
    ip saddr != @port_block_growing limit rate 1000/second burst 1000 packets add @port_block_growing { ip saddr } log group 4210 queue-threshold 1 comment "port-block-grow"
    ct mark set ct mark and 0x0000ffff or 0x4e530000 counter accept comment "spill-new"
  }
  chain port_block_64 {
    add @port_block_use_64 { ip saddr . ip daddr . meta l4proto . th dport ct count over 64 } goto port_block_spill comment "over-block"
  }
  chain port_block_128 {
    add @port_block_use_128 { ip saddr . ip daddr . meta l4proto . th dport ct count over 128 } goto port_block_spill comment "over-block"
  }
  chain port_block_256 {
    add @port_block_use_256 { ip saddr . ip daddr . meta l4proto . th dport ct count over 256 } goto port_block_spill comment "over-block"
  }
  chain port_block_512 {
    add @port_block_use_512 { ip saddr . ip daddr . meta l4proto . th dport ct count over 512 } goto port_block_spill comment "over-block"
  }
  chain port_block_1024 {
  }
  chain drop_source_not_allowed {
    counter name "drop_source_not_allowed" drop comment "drop"
  }
  chain drop_per_vm_cap {
    counter name "drop_per_vm_cap" drop comment "drop"
  }
  chain drop_invalid {
    counter name "drop_invalid" drop comment "drop"
  }
  chain drop_port_block_full {
    update @port_block_refusals { ip saddr } comment "count-per-vm"
    counter name "drop_port_block_full" drop comment "drop"
  }
  chain forward {
    type filter hook forward priority filter - 10; policy accept;
    iifname != "ens4" return comment "not-from-vpc"
    tcp flags syn / syn,rst oifname "ens4" tcp option maxseg size set 1420 comment "mss-clamp"
    ct state established,related ct direction reply counter accept comment "established-ingress"
    ct state established,related counter accept comment "established-egress"
    ct state invalid,untracked jump drop_invalid comment "invalid"
    ct status confirmed counter accept comment "unreplied"
    oifname != "ens4" jump drop_source_not_allowed comment "not-to-vpc"
    ip saddr != @sources jump drop_source_not_allowed comment "source-not-allowed"
    ip daddr @sources jump drop_source_not_allowed comment "destination-inside"
    meta l4proto { tcp, udp } ip saddr != @port_block_vms ip saddr != @port_block_learning limit rate 1000/second burst 1000 packets add @port_block_learning { ip saddr } log group 4210 queue-threshold 1 comment "port-block-learn"
    meta l4proto { tcp, udp } add @port_block_use { ip saddr . ip daddr . meta l4proto . th dport ct count over 1024 } jump drop_port_block_full comment "port-block-full"
    meta l4proto { tcp, udp } ip saddr vmap @port_block_class comment "port-block-size"
    ct mark set ct mark and 0x0000ffff or 0x4e410000 counter accept comment "admit-new"
  }
  chain postrouting {
    type nat hook postrouting priority srcnat - 10; policy accept;
    oifname "ens4" ct mark & 0xffff0000 == 0x4e410000 meta l4proto { tcp, udp } ip saddr @port_block_vms counter name "translated" snat ip to ip saddr map @port_blocks comment "port-block-snat"
    oifname "ens4" ct mark & 0xffff0000 { 0x4e410000, 0x4e530000 } meta l4proto { tcp, udp } ct mark set ct mark and 0x0000ffff or 0x4e470000 counter name "overflow" counter name "translated" masquerade to :61440-65535 comment "port-block-overflow"
    oifname "ens4" ct mark & 0xffff0000 == 0x4e410000 counter name "translated" masquerade comment "masquerade"
  }
  chain input {
    type filter hook input priority filter - 10; policy accept;
    tcp dport 9731 jump agent_port comment "agent-port"
  }
  chain agent_port {
    iifname "lo" accept comment "this-vm"
    ip saddr { 35.191.0.0/16, 130.211.0.0/22 } accept comment "health-checks"
    counter name "agent_port_refused" drop comment "refused"
  }
}

`

exports[`test/ruleset.test.ts > TAP > dynamic port blocks of 64 to 1024, no logging > sysctl.d file 1`] = `
# Written by natgw agent; removed by 'natgw agent --cleanup'.
net.ipv4.ip_forward = 1
net.ipv4.conf.all.send_redirects = 0
net.ipv4.conf.default.send_redirects = 0
net.ipv4.conf.ens4.send_redirects = 0
net.netfilter.nf_conntrack_udp_timeout = 30
net.netfilter.nf_conntrack_udp_timeout_stream = 30
net.netfilter.nf_conntrack_tcp_timeout_established = 1200
net.netfilter.nf_conntrack_tcp_timeout_syn_sent = 30
net.netfilter.nf_conntrack_tcp_timeout_syn_recv = 30
net.netfilter.nf_conntrack_tcp_timeout_fin_wait = 30
net.netfilter.nf_conntrack_tcp_timeout_close_wait = 30
net.netfilter.nf_conntrack_tcp_timeout_last_ack = 30
net.netfilter.nf_conntrack_tcp_timeout_time_wait = 120
net.netfilter.nf_conntrack_icmp_timeout = 30
net.netfilter.nf_conntrack_acct = 1
net.netfilter.nf_conntrack_max = 262144

`

exports[`test/ruleset.test.ts > TAP > GKE subnet with secondary ranges, per-VM cap, fixed MSS, random NAT ports > nft -f input 1`] = `
table ip natgw
delete table ip natgw
table ip natgw {
  counter translated { }
  counter agent_port_refused { }
  counter drop_source_not_allowed { }
  counter log_source_not_allowed { }
  counter drop_per_vm_cap { }
  counter log_per_vm_cap { }
  counter drop_invalid { }
  counter log_invalid { }
  set sources {
    type ipv4_addr; flags interval;
    elements = { 10.4.0.0/14, 10.8.0.0/20, 10.146.0.0/20 }
  }
  set per_vm_connections { type ipv4_addr; size 65535; flags dynamic; }
  chain drop_source_not_allowed {
    limit rate 50/second burst 50 packets counter name "log_source_not_allowed" log group 4201 comment "log"
    counter name "drop_source_not_allowed" drop comment "drop"
  }
  chain drop_per_vm_cap {
    limit rate 50/second burst 50 packets counter name "log_per_vm_cap" log group 4202 comment "log"
    counter name "drop_per_vm_cap" drop comment "drop"
  }
  chain drop_invalid {
    limit rate 50/second burst 50 packets counter name "log_invalid" log group 4203 comment "log"
    counter name "drop_invalid" drop comment "drop"
  }
  chain forward {
    type filter hook forward priority filter - 10; policy accept;
    iifname != "ens5" return comment "not-from-vpc"
    tcp flags syn / syn,rst oifname "ens5" tcp option maxseg size set 1380 comment "mss-clamp"
    ct state established,related ct direction reply counter accept comment "established-ingress"
    ct state established,related counter accept comment "established-egress"
    ct state invalid,untracked jump drop_invalid comment "invalid"
    ct status confirmed counter accept comment "unreplied"
    oifname != "ens5" jump drop_source_not_allowed comment "not-to-vpc"
    ip saddr != @sources jump drop_source_not_allowed comment "source-not-allowed"
    ip daddr @sources jump drop_source_not_allowed comment "destination-inside"
    add @per_vm_connections { ip saddr ct count over 4096 } jump drop_per_vm_cap comment "per-vm-cap"
    ct mark set ct mark and 0x0000ffff or 0x4e410000 counter accept comment "admit-new"
  }
  chain postrouting {
    type nat hook postrouting priority srcnat - 10; policy accept;
    oifname "ens5" ct mark & 0xffff0000 == 0x4e410000 counter name "translated" masquerade fully-random comment "masquerade"
  }
  chain input {
    type filter hook input priority filter - 10; policy accept;
    tcp dport 9731 jump agent_port comment "agent-port"
  }
  chain agent_port {
    iifname "lo" accept comment "this-vm"
    ip saddr { 35.191.0.0/16, 130.211.0.0/22 } accept comment "health-checks"
    counter name "agent_port_refused" drop comment "refused"
  }
}

`

exports[`test/ruleset.test.ts > TAP > GKE subnet with secondary ranges, per-VM cap, fixed MSS, random NAT ports > sysctl.d file 1`] = `
# Written by natgw agent; removed by 'natgw agent --cleanup'.
net.ipv4.ip_forward = 1
net.ipv4.conf.all.send_redirects = 0
net.ipv4.conf.default.send_redirects = 0
net.ipv4.conf.ens5.send_redirects = 0
net.netfilter.nf_conntrack_udp_timeout = 30
net.netfilter.nf_conntrack_udp_timeout_stream = 30
net.netfilter.nf_conntrack_tcp_timeout_established = 600
net.netfilter.nf_conntrack_tcp_timeout_syn_sent = 30
net.netfilter.nf_conntrack_tcp_timeout_syn_recv = 30
net.netfilter.nf_conntrack_tcp_timeout_fin_wait = 30
net.netfilter.nf_conntrack_tcp_timeout_close_wait = 30
net.netfilter.nf_conntrack_tcp_timeout_last_ack = 30
net.netfilter.nf_conntrack_tcp_timeout_time_wait = 30
net.netfilter.nf_conntrack_icmp_timeout = 30
net.netfilter.nf_conntrack_acct = 1
net.netfilter.nf_conntrack_max = 262144

`

exports[`test/ruleset.test.ts > TAP > no logging, flowtable offload on a kernel that has it > nft -f input 1`] = `
table ip natgw
delete table ip natgw
table ip natgw {
  counter translated { }
  counter agent_port_refused { }
  counter drop_source_not_allowed { }
  counter log_source_not_allowed { }
  counter drop_per_vm_cap { }
  counter log_per_vm_cap { }
  counter drop_invalid { }
  counter log_invalid { }
  set sources {
    type ipv4_addr; flags interval;
    elements = { 10.146.0.0/20, 10.146.16.5 }
  }
  flowtable fastpath { hook ingress priority filter; devices = { "ens4" }; counter; }
  chain drop_source_not_allowed {
    counter name "drop_source_not_allowed" drop comment "drop"
  }
  chain drop_per_vm_cap {
    counter name "drop_per_vm_cap" drop comment "drop"
  }
  chain drop_invalid {
    counter name "drop_invalid" drop comment "drop"
  }
  chain forward {
    type filter hook forward priority filter - 10; policy accept;
    iifname != "ens4" return comment "not-from-vpc"
    tcp flags syn / syn,rst oifname "ens4" tcp option maxseg size set 1420 comment "mss-clamp"
    ct state established meta l4proto { tcp, udp } flow add @fastpath comment "offload"
    ct state established,related ct direction reply counter accept comment "established-ingress"
    ct state established,related counter accept comment "established-egress"
    ct state invalid,untracked jump drop_invalid comment "invalid"
    ct status confirmed counter accept comment "unreplied"
    oifname != "ens4" jump drop_source_not_allowed comment "not-to-vpc"
    ip saddr != @sources jump drop_source_not_allowed comment "source-not-allowed"
    ip daddr @sources jump drop_source_not_allowed comment "destination-inside"
    ct mark set ct mark and 0x0000ffff or 0x4e410000 counter accept comment "admit-new"
  }
  chain postrouting {
    type nat hook postrouting priority srcnat - 10; policy accept;
    oifname "ens4" ct mark & 0xffff0000 == 0x4e410000 counter name "translated" masquerade comment "masquerade"
  }
  chain input {
    type filter hook input priority filter - 10; policy accept;
    tcp dport 9731 jump agent_port comment "agent-port"
  }
  chain agent_port {
    iifname "lo" accept comment "this-vm"
    ip saddr { 35.191.0.0/16, 130.211.0.0/22 } accept comment "health-checks"
    counter name "agent_port_refused" drop comment "refused"
  }
}

`

exports[`test/ruleset.test.ts > TAP > no logging, flowtable offload on a kernel that has it > sysctl.d file 1`] = `
# Written by natgw agent; removed by 'natgw agent --cleanup'.
net.ipv4.ip_forward = 1
net.ipv4.conf.all.send_redirects = 0
net.ipv4.conf.default.send_redirects = 0
net.ipv4.conf.ens4.send_redirects = 0
net.netfilter.nf_conntrack_udp_timeout = 30
net.netfilter.nf_conntrack_udp_timeout_stream = 30
net.netfilter.nf_conntrack_tcp_timeout_established = 1200
net.netfilter.nf_conntrack_tcp_timeout_syn_sent = 30
net.netfilter.nf_conntrack_tcp_timeout_syn_recv = 30
net.netfilter.nf_conntrack_tcp_timeout_fin_wait = 30
net.netfilter.nf_conntrack_tcp_timeout_close_wait = 30
net.netfilter.nf_conntrack_tcp_timeout_last_ack = 30
net.netfilter.nf_conntrack_tcp_timeout_time_wait = 120
net.netfilter.nf_conntrack_icmp_timeout = 30
net.netfilter.nf_conntrack_acct = 1
net.netfilter.nf_conntrack_max = 262144

`

exports[`test/ruleset.test.ts > TAP > one subnet, defaults > nft -f input 1`] = `
table ip natgw
delete table ip natgw
table ip natgw {
  counter translated { }
  counter agent_port_refused { }
  counter drop_source_not_allowed { }
  counter log_source_not_allowed { }
  counter drop_per_vm_cap { }
  counter log_per_vm_cap { }
  counter drop_invalid { }
  counter log_invalid { }
  set sources {
    type ipv4_addr; flags interval;
    elements = { 10.146.0.0/20 }
  }
  chain drop_source_not_allowed {
    limit rate 50/second burst 50 packets counter name "log_source_not_allowed" log group 4201 comment "log"
    counter name "drop_source_not_allowed" drop comment "drop"
  }
  chain drop_per_vm_cap {
    limit rate 50/second burst 50 packets counter name "log_per_vm_cap" log group 4202 comment "log"
    counter name "drop_per_vm_cap" drop comment "drop"
  }
  chain drop_invalid {
    limit rate 50/second burst 50 packets counter name "log_invalid" log group 4203 comment "log"
    counter name "drop_invalid" drop comment "drop"
  }
  chain forward {
    type filter hook forward priority filter - 10; policy accept;
    iifname != "ens4" return comment "not-from-vpc"
    tcp flags syn / syn,rst oifname "ens4" tcp option maxseg size set 1420 comment "mss-clamp"
    ct state established,related ct direction reply counter accept comment "established-ingress"
    ct state established,related counter accept comment "established-egress"
    ct state invalid,untracked jump drop_invalid comment "invalid"
    ct status confirmed counter accept comment "unreplied"
    oifname != "ens4" jump drop_source_not_allowed comment "not-to-vpc"
    ip saddr != @sources jump drop_source_not_allowed comment "source-not-allowed"
    ip daddr @sources jump drop_source_not_allowed comment "destination-inside"
    ct mark set ct mark and 0x0000ffff or 0x4e410000 counter accept comment "admit-new"
  }
  chain postrouting {
    type nat hook postrouting priority srcnat - 10; policy accept;
    oifname "ens4" ct mark & 0xffff0000 == 0x4e410000 counter name "translated" masquerade comment "masquerade"
  }
  chain input {
    type filter hook input priority filter - 10; policy accept;
    tcp dport 9731 jump agent_port comment "agent-port"
  }
  chain agent_port {
    iifname "lo" accept comment "this-vm"
    ip saddr { 35.191.0.0/16, 130.211.0.0/22 } accept comment "health-checks"
    counter name "agent_port_refused" drop comment "refused"
  }
}

`

exports[`test/ruleset.test.ts > TAP > one subnet, defaults > sysctl.d file 1`] = `
# Written by natgw agent; removed by 'natgw agent --cleanup'.
net.ipv4.ip_forward = 1
net.ipv4.conf.all.send_redirects = 0
net.ipv4.conf.default.send_redirects = 0
net.ipv4.conf.ens4.send_redirects = 0
net.netfilter.nf_conntrack_udp_timeout = 30
net.netfilter.nf_conntrack_udp_timeout_stream = 30
net.netfilter.nf_conntrack_tcp_timeout_established = 1200
net.netfilter.nf_conntrack_tcp_timeout_syn_sent = 30
net.netfilter.nf_conntrack_tcp_timeout_syn_recv = 30
net.netfilter.nf_conntrack_tcp_timeout_fin_wait = 30
net.netfilter.nf_conntrack_tcp_timeout_close_wait = 30
net.netfilter.nf_conntrack_tcp_timeout_last_ack = 30
net.netfilter.nf_conntrack_tcp_timeout_time_wait = 120
net.netfilter.nf_conntrack_icmp_timeout = 30
net.netfilter.nf_conntrack_acct = 1
net.netfilter.nf_conntrack_max = 262144

`

exports[`test/ruleset.test.ts > TAP > port-block elements change in one transaction of their own, never the whole table > nft -f input 1`] = `
delete element ip natgw port_blocks { 10.146.0.5 }
delete element ip natgw port_block_vms { 10.146.0.5 }
add element ip natgw port_blocks { 10.146.0.7 : 10.146.0.2 . 1024-1087, 10.146.0.9 : 10.146.0.2 . 1088-1151 }
add element ip natgw port_block_vms { 10.146.0.7, 10.146.0.9 }

`

exports[`test/ruleset.test.ts > TAP > stateful: SNAT to the shared IP from this VM’s half, NAT-IP guard, sync and role counters, tcp_loose=0 > nft -f input 1`] = `
table ip natgw
delete table ip natgw
table ip natgw {
  counter translated { }
  counter agent_port_refused { }
  counter sync_sent { }
  counter sync_received { }
  counter nat_ip_in { }
  counter nat_ip_refused { }
  counter drop_source_not_allowed { }
  counter log_source_not_allowed { }
  counter drop_per_vm_cap { }
  counter log_per_vm_cap { }
  counter drop_invalid { }
  counter log_invalid { }
  set sources {
    type ipv4_addr; flags interval;
    elements = { 10.146.0.0/20 }
  }
  chain drop_source_not_allowed {
    limit rate 50/second burst 50 packets counter name "log_source_not_allowed" log group 4201 comment "log"
    counter name "drop_source_not_allowed" drop comment "drop"
  }
  chain drop_per_vm_cap {
    limit rate 50/second burst 50 packets counter name "log_per_vm_cap" log group 4202 comment "log"
    counter name "drop_per_vm_cap" drop comment "drop"
  }
  chain drop_invalid {
    limit rate 50/second burst 50 packets counter name "log_invalid" log group 4203 comment "log"
    counter name "drop_invalid" drop comment "drop"
  }
  chain forward {
    type filter hook forward priority filter - 10; policy accept;
    iifname != "ens4" return comment "not-from-vpc"
    tcp flags syn / syn,rst oifname "ens4" tcp option maxseg size set 1420 comment "mss-clamp"
    ct state established,related ct direction reply counter accept comment "established-ingress"
    ct state established,related counter accept comment "established-egress"
    ct state invalid,untracked jump drop_invalid comment "invalid"
    ct status confirmed counter accept comment "unreplied"
    oifname != "ens4" jump drop_source_not_allowed comment "not-to-vpc"
    ip saddr != @sources jump drop_source_not_allowed comment "source-not-allowed"
    ip daddr @sources jump drop_source_not_allowed comment "destination-inside"
    ct mark set ct mark and 0x0000ffff or 0x4e410000 counter accept comment "admit-new"
  }
  chain postrouting {
    type nat hook postrouting priority srcnat - 10; policy accept;
    oifname "ens4" ct mark & 0xffff0000 == 0x4e410000 meta l4proto { tcp, udp } counter name "translated" snat ip to 203.0.113.100:33280-65535 comment "stateful-snat"
    oifname "ens4" ct mark & 0xffff0000 == 0x4e410000 counter name "translated" snat ip to 203.0.113.100 comment "stateful-snat-other"
  }
  chain input {
    type filter hook input priority filter - 10; policy accept;
    ip saddr 10.146.0.2 udp dport 3780 counter name "sync_received" accept comment "sync-received"
    iifname "lo" udp dport 3780 accept comment "sync-relay-loopback"
    udp dport 3780 counter drop comment "sync-not-from-peer"
    tcp dport 9731 jump agent_port comment "agent-port"
  }
  chain agent_port {
    iifname "lo" accept comment "this-vm"
    ip saddr { 35.191.0.0/16, 130.211.0.0/22, 209.85.152.0/22, 209.85.204.0/22 } accept comment "health-checks"
    ip saddr 10.146.0.2 accept comment "sync-peer"
    counter name "agent_port_refused" drop comment "refused"
  }
  chain prerouting {
    type filter hook prerouting priority mangle; policy accept;
    ip daddr 203.0.113.100 jump nat_ip comment "nat-ip"
  }
  chain nat_ip {
    tcp dport 9731 ip saddr { 35.191.0.0/16, 130.211.0.0/22, 209.85.152.0/22, 209.85.204.0/22 } accept comment "nat-ip-health-checks"
    counter name "nat_ip_in" comment "nat-ip-in"
    ct state established,related accept comment "nat-ip-replies"
    counter name "nat_ip_refused" drop comment "nat-ip-unsolicited"
  }
  chain output {
    type filter hook output priority filter - 10; policy accept;
    ip daddr 10.146.0.2 udp dport 3780 counter name "sync_sent" comment "sync-sent"
  }
}

`

exports[`test/ruleset.test.ts > TAP > stateful: SNAT to the shared IP from this VM’s half, NAT-IP guard, sync and role counters, tcp_loose=0 > sysctl.d file 1`] = `
# Written by natgw agent; removed by 'natgw agent --cleanup'.
net.ipv4.ip_forward = 1
net.ipv4.conf.all.send_redirects = 0
net.ipv4.conf.default.send_redirects = 0
net.ipv4.conf.ens4.send_redirects = 0
net.netfilter.nf_conntrack_udp_timeout = 30
net.netfilter.nf_conntrack_udp_timeout_stream = 30
net.netfilter.nf_conntrack_tcp_timeout_established = 1200
net.netfilter.nf_conntrack_tcp_timeout_syn_sent = 30
net.netfilter.nf_conntrack_tcp_timeout_syn_recv = 30
net.netfilter.nf_conntrack_tcp_timeout_fin_wait = 30
net.netfilter.nf_conntrack_tcp_timeout_close_wait = 30
net.netfilter.nf_conntrack_tcp_timeout_last_ack = 30
net.netfilter.nf_conntrack_tcp_timeout_time_wait = 120
net.netfilter.nf_conntrack_icmp_timeout = 30
net.netfilter.nf_conntrack_acct = 1
net.netfilter.nf_conntrack_tcp_loose = 0

`

exports[`test/ruleset.test.ts > TAP > static port blocks of 64 > nft -f input 1`] = `
table ip natgw
delete table ip natgw
table ip natgw {
  counter translated { }
  counter agent_port_refused { }
  counter overflow { }
  counter drop_source_not_allowed { }
  counter log_source_not_allowed { }
  counter drop_per_vm_cap { }
  counter log_per_vm_cap { }
  counter drop_invalid { }
  counter log_invalid { }
  counter drop_port_block_full { }
  counter log_port_block_full { }
  set sources {
    type ipv4_addr; flags interval;
    elements = { 10.146.0.0/20 }
  }
  map port_blocks { type ipv4_addr : interval ipv4_addr . inet_service; flags interval; }
  set port_block_vms { type ipv4_addr; }
  set port_block_use { type ipv4_addr . ipv4_addr . inet_proto . inet_service; size 1048576; flags dynamic; }
  set port_block_refusals { type ipv4_addr; size 65535; flags dynamic; counter; }
  set port_block_learning { type ipv4_addr; size 65535; flags dynamic,timeout; timeout 1s; }
  chain drop_source_not_allowed {
    limit rate 50/second burst 50 packets counter name "log_source_not_allowed" log group 4201 comment "log"
    counter name "drop_source_not_allowed" drop comment "drop"
  }
  chain drop_per_vm_cap {
    limit rate 50/second burst 50 packets counter name "log_per_vm_cap" log group 4202 comment "log"
    counter name "drop_per_vm_cap" drop comment "drop"
  }
  chain drop_invalid {
    limit rate 50/second burst 50 packets counter name "log_invalid" log group 4203 comment "log"
    counter name "drop_invalid" drop comment "drop"
  }
  chain drop_port_block_full {
    update @port_block_refusals { ip saddr } comment "count-per-vm"
    limit rate 50/second burst 50 packets counter name "log_port_block_full" log group 4205 comment "log"
    counter name "drop_port_block_full" drop comment "drop"
  }
  chain forward {
    type filter hook forward priority filter - 10; policy accept;
    iifname != "ens4" return comment "not-from-vpc"
    tcp flags syn / syn,rst oifname "ens4" tcp option maxseg size set 1420 comment "mss-clamp"
    ct state established,related ct direction reply counter accept comment "established-ingress"
    ct state established,related counter accept comment "established-egress"
    ct state invalid,untracked jump drop_invalid comment "invalid"
    ct status confirmed counter accept comment "unreplied"
    oifname != "ens4" jump drop_source_not_allowed comment "not-to-vpc"
    ip saddr != @sources jump drop_source_not_allowed comment "source-not-allowed"
    ip daddr @sources jump drop_source_not_allowed comment "destination-inside"
    meta l4proto { tcp, udp } ip saddr != @port_block_vms ip saddr != @port_block_learning limit rate 1000/second burst 1000 packets add @port_block_learning { ip saddr } log group 4210 queue-threshold 1 comment "port-block-learn"
    meta l4proto { tcp, udp } add @port_block_use { ip saddr . ip daddr . meta l4proto . th dport ct count over 64 } jump drop_port_block_full comment "port-block-full"
    ct mark set ct mark and 0x0000ffff or 0x4e410000 counter accept comment "admit-new"
  }
  chain postrouting {
    type nat hook postrouting priority srcnat - 10; policy accept;
    oifname "ens4" ct mark & 0xffff0000 == 0x4e410000 meta l4proto { tcp, udp } ip saddr @port_block_vms counter name "translated" snat ip to ip saddr map @port_blocks comment "port-block-snat"
    oifname "ens4" ct mark & 0xffff0000 == 0x4e410000 meta l4proto { tcp, udp } ct mark set ct mark and 0x0000ffff or 0x4e470000 counter name "overflow" counter name "translated" masquerade to :61440-65535 comment "port-block-overflow"
    oifname "ens4" ct mark & 0xffff0000 == 0x4e410000 counter name "translated" masquerade comment "masquerade"
  }
  chain input {
    type filter hook input priority filter - 10; policy accept;
    tcp dport 9731 jump agent_port comment "agent-port"
  }
  chain agent_port {
    iifname "lo" accept comment "this-vm"
    ip saddr { 35.191.0.0/16, 130.211.0.0/22 } accept comment "health-checks"
    counter name "agent_port_refused" drop comment "refused"
  }
}

`

exports[`test/ruleset.test.ts > TAP > static port blocks of 64 > sysctl.d file 1`] = `
# Written by natgw agent; removed by 'natgw agent --cleanup'.
net.ipv4.ip_forward = 1
net.ipv4.conf.all.send_redirects = 0
net.ipv4.conf.default.send_redirects = 0
net.ipv4.conf.ens4.send_redirects = 0
net.netfilter.nf_conntrack_udp_timeout = 30
net.netfilter.nf_conntrack_udp_timeout_stream = 30
net.netfilter.nf_conntrack_tcp_timeout_established = 1200
net.netfilter.nf_conntrack_tcp_timeout_syn_sent = 30
net.netfilter.nf_conntrack_tcp_timeout_syn_recv = 30
net.netfilter.nf_conntrack_tcp_timeout_fin_wait = 30
net.netfilter.nf_conntrack_tcp_timeout_close_wait = 30
net.netfilter.nf_conntrack_tcp_timeout_last_ack = 30
net.netfilter.nf_conntrack_tcp_timeout_time_wait = 120
net.netfilter.nf_conntrack_icmp_timeout = 30
net.netfilter.nf_conntrack_acct = 1
net.netfilter.nf_conntrack_max = 262144

`

exports[`test/ruleset.test.ts > TAP > the iptables data plane of an older agent is found and removed chain by chain > iptables-restore input removing the old chains 1`] = `
*mangle
:NATGW-MSS - [0:0]
-X NATGW-MSS
COMMIT
*filter
:NATGW-FORWARD - [0:0]
:NATGW-DROP-SOURCE - [0:0]
-X NATGW-FORWARD
-X NATGW-DROP-SOURCE
COMMIT

`
