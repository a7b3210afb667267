/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`test/ruleset.test.ts > TAP > GKE subnet with secondary ranges, per-VM cap, fixed MSS, random NAT ports > ipset restore input 1`] = `
create natgw-src hash:net family inet hashsize 1024 maxelem 65536
create natgw-src-next hash:net family inet hashsize 1024 maxelem 65536
flush natgw-src-next
add natgw-src-next 10.146.0.0/20
add natgw-src-next 10.146.0.5
add natgw-src-next 10.4.0.0/14
add natgw-src-next 10.8.0.0/20

`

exports[`test/ruleset.test.ts > TAP > GKE subnet with secondary ranges, per-VM cap, fixed MSS, random NAT ports > iptables-restore input 1`] = `
*mangle
:NATGW-MSS - [0:0]
-A NATGW-MSS -o ens5 -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1380
COMMIT
*filter
:NATGW-FORWARD - [0:0]
:NATGW-EGRESS - [0:0]
:NATGW-DROP-SOURCE - [0:0]
:NATGW-DROP-CAP - [0:0]
:NATGW-DROP-INVALID - [0:0]
-A NATGW-FORWARD ! -i ens5 -j RETURN
-A NATGW-FORWARD -m conntrack --ctstate INVALID -j NATGW-DROP-INVALID
-A NATGW-FORWARD -o ens5 -m conntrack --ctstate RELATED,ESTABLISHED --ctdir REPLY -m comment --comment "natgw:ingress" -j ACCEPT
-A NATGW-FORWARD -o ens5 -m set --match-set natgw-src src -m set ! --match-set natgw-src dst -j NATGW-EGRESS
-A NATGW-FORWARD -j NATGW-DROP-SOURCE
-A NATGW-EGRESS -m conntrack --ctstate NEW -m connlimit --connlimit-above 4096 --connlimit-mask 32 --connlimit-saddr -j NATGW-DROP-CAP
-A NATGW-EGRESS -m conntrack --ctstate NEW -m comment --comment "natgw:new"
-A NATGW-EGRESS -m comment --comment "natgw:egress" -j ACCEPT
-A NATGW-DROP-SOURCE -m limit --limit 50/sec --limit-burst 50 -m comment --comment "natgw:log:source_not_allowed" -j NFLOG --nflog-group 4201
-A NATGW-DROP-SOURCE -m comment --comment "natgw:drop:source_not_allowed" -j DROP
-A NATGW-DROP-CAP -m limit --limit 50/sec --limit-burst 50 -m comment --comment "natgw:log:per_vm_cap" -j NFLOG --nflog-group 4202
-A NATGW-DROP-CAP -m comment --comment "natgw:drop:per_vm_cap" -j DROP
-A NATGW-DROP-INVALID -m limit --limit 50/sec --limit-burst 50 -m comment --comment "natgw:log:invalid" -j NFLOG --nflog-group 4203
-A NATGW-DROP-INVALID -m comment --comment "natgw:drop:invalid" -j DROP
COMMIT
*nat
:NATGW-POSTROUTING - [0:0]
-A NATGW-POSTROUTING -o ens5 -m addrtype ! --src-type LOCAL -m set --match-set natgw-src src -m set ! --match-set natgw-src dst -j MASQUERADE --random-fully
COMMIT

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

exports[`test/ruleset.test.ts > TAP > one subnet, defaults > ipset restore input 1`] = `
create natgw-src hash:net family inet hashsize 1024 maxelem 65536
create natgw-src-next hash:net family inet hashsize 1024 maxelem 65536
flush natgw-src-next
add natgw-src-next 10.146.0.0/20

`

exports[`test/ruleset.test.ts > TAP > one subnet, defaults > iptables-restore input 1`] = `
*mangle
:NATGW-MSS - [0:0]
-A NATGW-MSS -o ens4 -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
COMMIT
*filter
:NATGW-FORWARD - [0:0]
:NATGW-EGRESS - [0:0]
:NATGW-DROP-SOURCE - [0:0]
:NATGW-DROP-CAP - [0:0]
:NATGW-DROP-INVALID - [0:0]
-A NATGW-FORWARD ! -i ens4 -j RETURN
-A NATGW-FORWARD -m conntrack --ctstate INVALID -j NATGW-DROP-INVALID
-A NATGW-FORWARD -o ens4 -m conntrack --ctstate RELATED,ESTABLISHED --ctdir REPLY -m comment --comment "natgw:ingress" -j ACCEPT
-A NATGW-FORWARD -o ens4 -m set --match-set natgw-src src -m set ! --match-set natgw-src dst -j NATGW-EGRESS
-A NATGW-FORWARD -j NATGW-DROP-SOURCE
-A NATGW-EGRESS -m conntrack --ctstate NEW -m comment --comment "natgw:new"
-A NATGW-EGRESS -m comment --comment "natgw:egress" -j ACCEPT
-A NATGW-DROP-SOURCE -m limit --limit 50/sec --limit-burst 50 -m comment --comment "natgw:log:source_not_allowed" -j NFLOG --nflog-group 4201
-A NATGW-DROP-SOURCE -m comment --comment "natgw:drop:source_not_allowed" -j DROP
-A NATGW-DROP-CAP -m limit --limit 50/sec --limit-burst 50 -m comment --comment "natgw:log:per_vm_cap" -j NFLOG --nflog-group 4202
-A NATGW-DROP-CAP -m comment --comment "natgw:drop:per_vm_cap" -j DROP
-A NATGW-DROP-INVALID -m limit --limit 50/sec --limit-burst 50 -m comment --comment "natgw:log:invalid" -j NFLOG --nflog-group 4203
-A NATGW-DROP-INVALID -m comment --comment "natgw:drop:invalid" -j DROP
COMMIT
*nat
:NATGW-POSTROUTING - [0:0]
-A NATGW-POSTROUTING -o ens4 -m addrtype ! --src-type LOCAL -m set --match-set natgw-src src -m set ! --match-set natgw-src dst -j MASQUERADE
COMMIT

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

exports[`test/ruleset.test.ts > TAP > removal input deletes only the chains it is given > must match snapshot 1`] = `
*filter
:NATGW-FORWARD - [0:0]
:NATGW-EGRESS - [0:0]
-X NATGW-FORWARD
-X NATGW-EGRESS
COMMIT
*nat
:NATGW-POSTROUTING - [0:0]
-X NATGW-POSTROUTING
COMMIT

`
