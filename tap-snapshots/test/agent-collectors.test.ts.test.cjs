/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`test/agent-collectors.test.ts > TAP > every collector with every feature on: names, labels, HELP and values > natgw_* lines, sorted 1`] = `
# HELP natgw_agent_port_refused_packets_total Packets to the agent's port dropped because their source may not reach it (docs/security.md): a client VM or the internet knocking.
# HELP natgw_build_info Agent version; always 1.
# HELP natgw_collector_duration_seconds How long the collector took on its last run.
# HELP natgw_collector_success 1 when the collector worked on its last run (scrape-time: this scrape; background: its last sample).
# HELP natgw_config_errors_total Config changes refused as invalid (the last good config stays).
# HELP natgw_config_max_connections_per_vm Per-VM connection cap in effect; 0 when there is none.
# HELP natgw_config_reconcile_interval_seconds How often drift is checked and repaired.
# HELP natgw_config_reloads_total Config changes applied at runtime.
# HELP natgw_config_source_ranges Source ranges in the config in effect.
# HELP natgw_config_timeout_seconds Conntrack timeouts in effect, by kind.
# HELP natgw_connections_closed_total Translated connections removed from the conntrack table, by protocol, while translation logs are on (from kernel events; see natgw_conntrack_events_lost_total).
# HELP natgw_connections_opened_total New connections from VMs admitted for translation, counted once each by the kernel (a retransmitted SYN is not counted again).
# HELP natgw_conntrack_drop_total Packets dropped because no conntrack entry could be made (table full).
# HELP natgw_conntrack_early_drop_total Entries evicted to make room for new ones (table near full).
# HELP natgw_conntrack_entries Connections in the conntrack table (all of them, not only translated ones).
# HELP natgw_conntrack_entries_limit Size of the conntrack table (nf_conntrack_max); new connections fail beyond it.
# HELP natgw_conntrack_events_lost_total Times the kernel dropped connection events because the agent fell behind (closed counts and translation logs miss those).
# HELP natgw_conntrack_insert_failed_total Connections the kernel could not insert (a NAT port clash): their packet was dropped.
# HELP natgw_conntrack_invalid_total Packets conntrack could not classify.
# HELP natgw_deployment_info Deployment mode of this gateway: "single" is not highly available.
# HELP natgw_dropped_packets_total Forwarded packets dropped, by reason: source_not_allowed, per_vm_cap, invalid, port_block_full (our rules); conntrack_table_full, nat_allocation_failed (kernel).
# HELP natgw_forwarded_bytes_total Bytes (IP headers included) forwarded through the NAT, counted by the kernel; egress = from VMs, ingress = replies to VMs.
# HELP natgw_forwarded_packets_total Packets forwarded through the NAT, counted by the kernel; egress = from VMs, ingress = replies to VMs.
# HELP natgw_healthy 1 when /healthz would answer 200.
# HELP natgw_log_entries_suppressed_total Log entries left out by the rate limit (logRateLimitPerSecond), by kind.
# HELP natgw_log_entries_total Log entries written, by kind (translation, error).
# HELP natgw_open_connections Translated connections open at the last sample.
# HELP natgw_port_block_clients_refused_total New clients refused because the port space had no block left for them.
# HELP natgw_port_block_overflow_connections_total Connections translated from the shared overflow ports because their VM had no port block yet (counted by the kernel); none is dropped for want of a block.
# HELP natgw_port_blocks VMs holding a port block.
# HELP natgw_port_space_ports Ports of the NAT IP for port blocks (1024-61439; 61440-65535 are the overflow ports): total, and used by blocks VMs hold.
# HELP natgw_ruleset_applies_total Times the data plane was applied (start, config change, repair).
# HELP natgw_ruleset_apply_errors_total Failed attempts to apply the data plane.
# HELP natgw_ruleset_in_sync 1 when the live ruleset, sets and sysctls match the config.
# HELP natgw_ruleset_repairs_total Times the agent found drift and re-applied the data plane.
# HELP natgw_vm_open_connections Open translated connections per VM at the last sample; only the top N VMs by connections (perVmMetrics.topN).
# HELP natgw_vm_port_block_refusals_total New connections refused because the VM's block was full for their destination; top N VMs by refusals.
# HELP natgw_vm_port_block_size Ports in a VM's block; top N VMs by block use (perVmMetrics.topN).
# HELP natgw_vm_port_block_used_ports Most connections from a VM to one destination ip:port/protocol: the ports of its block in use there; top N by use.
# HELP natgw_vm_port_usage Most connections from one VM to a single destination ip:port/protocol (Cloud NAT port_usage); top N VMs by connections.
# HELP natgw_vm_sample_age_seconds Age of the per-VM figures (the sampler adapts its cadence to the table size).
# HELP natgw_vm_series_omitted VMs left out of the per-VM series by the top-N limit.
# HELP natgw_vms VMs with at least one translated connection at the last sample.
# TYPE natgw_agent_port_refused_packets_total counter
# TYPE natgw_build_info gauge
# TYPE natgw_collector_duration_seconds gauge
# TYPE natgw_collector_success gauge
# TYPE natgw_config_errors_total counter
# TYPE natgw_config_max_connections_per_vm gauge
# TYPE natgw_config_reconcile_interval_seconds gauge
# TYPE natgw_config_reloads_total counter
# TYPE natgw_config_source_ranges gauge
# TYPE natgw_config_timeout_seconds gauge
# TYPE natgw_connections_closed_total counter
# TYPE natgw_connections_opened_total counter
# TYPE natgw_conntrack_drop_total counter
# TYPE natgw_conntrack_early_drop_total counter
# TYPE natgw_conntrack_entries gauge
# TYPE natgw_conntrack_entries_limit gauge
# TYPE natgw_conntrack_events_lost_total counter
# TYPE natgw_conntrack_insert_failed_total counter
# TYPE natgw_conntrack_invalid_total counter
# TYPE natgw_deployment_info gauge
# TYPE natgw_dropped_packets_total counter
# TYPE natgw_forwarded_bytes_total counter
# TYPE natgw_forwarded_packets_total counter
# TYPE natgw_healthy gauge
# TYPE natgw_log_entries_suppressed_total counter
# TYPE natgw_log_entries_total counter
# TYPE natgw_open_connections gauge
# TYPE natgw_port_block_clients_refused_total counter
# TYPE natgw_port_block_overflow_connections_total counter
# TYPE natgw_port_blocks gauge
# TYPE natgw_port_space_ports gauge
# TYPE natgw_ruleset_applies_total counter
# TYPE natgw_ruleset_apply_errors_total counter
# TYPE natgw_ruleset_in_sync gauge
# TYPE natgw_ruleset_repairs_total counter
# TYPE natgw_vm_open_connections gauge
# TYPE natgw_vm_port_block_refusals_total counter
# TYPE natgw_vm_port_block_size gauge
# TYPE natgw_vm_port_block_used_ports gauge
# TYPE natgw_vm_port_usage gauge
# TYPE natgw_vm_sample_age_seconds gauge
# TYPE natgw_vm_series_omitted gauge
# TYPE natgw_vms gauge
natgw_agent_port_refused_packets_total 0
natgw_build_info{version="0.0.0-test"} 1
natgw_collector_success{collector="conntrack_events"} 1
natgw_collector_success{collector="conntrack_stats"} 1
natgw_collector_success{collector="conntrack_table"} 0
natgw_collector_success{collector="drop_log"} 1
natgw_collector_success{collector="port_block_learn"} 1
natgw_collector_success{collector="port_block_overflow"} 1
natgw_collector_success{collector="rules"} 1
natgw_config_errors_total 0
natgw_config_max_connections_per_vm 100
natgw_config_reconcile_interval_seconds 10
natgw_config_reloads_total 0
natgw_config_source_ranges 1
natgw_config_timeout_seconds{kind="icmp"} 30
natgw_config_timeout_seconds{kind="tcpEstablished"} 1200
natgw_config_timeout_seconds{kind="tcpTimeWait"} 120
natgw_config_timeout_seconds{kind="tcpTransitory"} 30
natgw_config_timeout_seconds{kind="udp"} 30
natgw_connections_closed_total{protocol="icmp"} 0
natgw_connections_closed_total{protocol="tcp"} 0
natgw_connections_closed_total{protocol="udp"} 0
natgw_connections_opened_total 0
natgw_conntrack_drop_total 1
natgw_conntrack_early_drop_total 3
natgw_conntrack_entries 42
natgw_conntrack_entries_limit 262144
natgw_conntrack_events_lost_total 0
natgw_conntrack_insert_failed_total 3
natgw_conntrack_invalid_total 8
natgw_deployment_info{mode="single"} 1
natgw_dropped_packets_total{reason="conntrack_table_full"} 1
natgw_dropped_packets_total{reason="invalid"} 0
natgw_dropped_packets_total{reason="nat_allocation_failed"} 3
natgw_dropped_packets_total{reason="per_vm_cap"} 0
natgw_dropped_packets_total{reason="port_block_full"} 3
natgw_dropped_packets_total{reason="source_not_allowed"} 0
natgw_forwarded_bytes_total{direction="egress"} 9000
natgw_forwarded_bytes_total{direction="ingress"} 0
natgw_forwarded_packets_total{direction="egress"} 120
natgw_forwarded_packets_total{direction="ingress"} 0
natgw_healthy 1
natgw_log_entries_suppressed_total{kind="error"} 3
natgw_log_entries_suppressed_total{kind="translation"} 0
natgw_log_entries_total{kind="error"} 0
natgw_log_entries_total{kind="translation"} 0
natgw_open_connections 0
natgw_port_block_clients_refused_total 0
natgw_port_block_overflow_connections_total 0
natgw_port_blocks 0
natgw_port_space_ports{state="total"} 60416
natgw_port_space_ports{state="used"} 0
natgw_ruleset_applies_total 1
natgw_ruleset_apply_errors_total 0
natgw_ruleset_in_sync 1
natgw_ruleset_repairs_total 0
natgw_vm_sample_age_seconds 0
natgw_vm_series_omitted 0
natgw_vms 0
`
