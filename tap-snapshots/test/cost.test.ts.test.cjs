/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`test/cost.test.ts > TAP > human-readable table (golden) > us-central1, 4 VMs, 150 GiB, e2-small 1`] = `
natgw cost: us-central1, 4 VMs, 150 GiB/month processed (both directions)
natgw on 1 × e2-small; 730 h/month; list prices of 2026-07-30 (USD)

Cloud NAT                                                        $/month
  VM-hours: 4 VMs × 730 h × $0.0014/VM-hour                         4.09
  data processed: 150 GiB × $0.045/GiB                              6.75
  NAT IPs: 1 × 730 h × $0.005/IP-hour                               3.65
  total                                                            14.49

natgw                                                            $/month
  e2-small VM: 1 × 730 h × $0.0167529/VM-hour                      12.23
  boot disk pd-balanced: 1 × 10 GiB × $0.1/GiB-month                1.00
  external IPs: 1 × 730 h × $0.005/IP-hour                          3.65
  total                                                            16.88
  (no per-GiB processing fee)
  (inter-zone transfer from clients in other zones not counted: --cross-zone-share)

Difference: Cloud NAT is $2.39/month cheaper (14 % less), $28.70/year.
Break-even: 203 GiB/month for 4 VMs; natgw is cheaper above it, Cloud NAT below.

Internet egress, billed the same either way, not in the difference:
  75 GiB/month to the internet (assumed: half of the processed GiB; set --egress-gib)
  internet egress 0 GiB–1 TiB × $0.12/GiB                           9.00
  total                                                             9.00

Capacity: 1 × e2-small at 1 Gbps = 1 Gbps egress cap, peak 1.5 Gbps
WARNING: peak 1.5 Gbps exceeds the egress cap: e2-small can send at most 1 Gbps; the cheapest type that fits is e2-medium (2 Gbps per VM): --machine-type e2-medium

`
