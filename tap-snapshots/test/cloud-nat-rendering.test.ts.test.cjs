/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`test/cloud-nat-rendering.test.ts > TAP > the fabric rules and the Cloud NAT rules (golden) > the fabric: Cloud NAT jumped before the conntrack shortcut and the no-external-IP drop 1`] = `
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:LAB-EXTERNAL - [0:0]
:LAB-LB - [0:0]
:LAB-CLOUDNAT - [0:0]
-A FORWARD -i vpc0 -o vpc0 -j ACCEPT
-A FORWARD -j LAB-CLOUDNAT
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -j LAB-LB
-A FORWARD -j LAB-EXTERNAL
-A FORWARD -i vpc0 -o wan -m comment --comment lab:no-external-ip -j DROP
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:LAB-1TO1-IN - [0:0]
:LAB-1TO1-OUT - [0:0]
:LAB-CLOUDNAT-SNAT - [0:0]
-A PREROUTING -j LAB-1TO1-IN
-A POSTROUTING -j LAB-1TO1-OUT
-A POSTROUTING -j LAB-CLOUDNAT-SNAT
COMMIT

`

exports[`test/cloud-nat-rendering.test.ts > TAP > the fabric rules and the Cloud NAT rules (golden) > two covered VMs 1`] = `
*filter
-F LAB-CLOUDNAT
-A LAB-CLOUDNAT -i vpc0 -o wan -s 10.10.0.20/32 -m comment --comment "cloud-nat natgw-router/natgw-fallback app-1" -j ACCEPT
-A LAB-CLOUDNAT -i wan -o vpc0 -d 10.10.0.20/32 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "cloud-nat natgw-router/natgw-fallback app-1" -j ACCEPT
-A LAB-CLOUDNAT -i vpc0 -o wan -s 10.10.0.21/32 -m comment --comment "cloud-nat natgw-router/natgw-fallback app-2" -j ACCEPT
-A LAB-CLOUDNAT -i wan -o vpc0 -d 10.10.0.21/32 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "cloud-nat natgw-router/natgw-fallback app-2" -j ACCEPT
COMMIT
*nat
-F LAB-CLOUDNAT-SNAT
-A LAB-CLOUDNAT-SNAT -s 10.10.0.20/32 -o wan -p tcp -m comment --comment "cloud-nat natgw-router/natgw-fallback app-1" -j SNAT --to-source 203.0.113.77:1024-1087
-A LAB-CLOUDNAT-SNAT -s 10.10.0.20/32 -o wan -p udp -m comment --comment "cloud-nat natgw-router/natgw-fallback app-1" -j SNAT --to-source 203.0.113.77:1024-1087
-A LAB-CLOUDNAT-SNAT -s 10.10.0.20/32 -o wan -m comment --comment "cloud-nat natgw-router/natgw-fallback app-1" -j SNAT --to-source 203.0.113.77
-A LAB-CLOUDNAT-SNAT -s 10.10.0.21/32 -o wan -p tcp -m comment --comment "cloud-nat natgw-router/natgw-fallback app-2" -j SNAT --to-source 203.0.113.77:1088-1151
-A LAB-CLOUDNAT-SNAT -s 10.10.0.21/32 -o wan -p udp -m comment --comment "cloud-nat natgw-router/natgw-fallback app-2" -j SNAT --to-source 203.0.113.77:1088-1151
-A LAB-CLOUDNAT-SNAT -s 10.10.0.21/32 -o wan -m comment --comment "cloud-nat natgw-router/natgw-fallback app-2" -j SNAT --to-source 203.0.113.77
COMMIT

`
