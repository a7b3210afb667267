/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`test/agent-http.test.ts > TAP > golden /metrics from the rules' counters and a fixture procfs > natgw_* series 1`] = `
# HELP natgw_build_info Agent version; always 1.
# TYPE natgw_build_info gauge
natgw_build_info{version="0.0.0-test"} 1
# HELP natgw_forwarded_packets_total Packets forwarded through the NAT, counted by the kernel; egress = from VMs, ingress = replies to VMs.
# TYPE natgw_forwarded_packets_total counter
natgw_forwarded_packets_total{direction="egress"} 120
natgw_forwarded_packets_total{direction="ingress"} 200
# HELP natgw_forwarded_bytes_total Bytes (IP headers included) forwarded through the NAT, counted by the kernel; egress = from VMs, ingress = replies to VMs.
# TYPE natgw_forwarded_bytes_total counter
natgw_forwarded_bytes_total{direction="egress"} 9000
natgw_forwarded_bytes_total{direction="ingress"} 250000
# HELP natgw_dropped_packets_total Forwarded packets dropped, by reason: source_not_allowed, per_vm_cap, invalid, port_block_full (our rules); conntrack_table_full, nat_allocation_failed (kernel).
# TYPE natgw_dropped_packets_total counter
natgw_dropped_packets_total{reason="source_not_allowed"} 4
natgw_dropped_packets_total{reason="per_vm_cap"} 2
natgw_dropped_packets_total{reason="invalid"} 0
natgw_dropped_packets_total{reason="port_block_full"} 0
natgw_dropped_packets_total{reason="nat_allocation_failed"} 3
natgw_dropped_packets_total{reason="conntrack_table_full"} 1
# HELP natgw_agent_port_refused_packets_total Packets to the agent's port dropped because their source may not reach it (docs/security.md): a client VM or the internet knocking.
# TYPE natgw_agent_port_refused_packets_total counter
natgw_agent_port_refused_packets_total 0
# HELP natgw_connections_opened_total New connections from VMs admitted for translation, counted once each by the kernel (a retransmitted SYN is not counted again).
# TYPE natgw_connections_opened_total counter
natgw_connections_opened_total 7
# HELP natgw_connections_closed_total Translated connections removed from the conntrack table, by protocol, while translation logs are on (from kernel events; see natgw_conntrack_events_lost_total).
# TYPE natgw_connections_closed_total counter
# HELP natgw_conntrack_events_lost_total Times the kernel dropped connection events because the agent fell behind (closed counts and translation logs miss those).
# TYPE natgw_conntrack_events_lost_total counter
natgw_conntrack_events_lost_total 0
# HELP natgw_conntrack_insert_failed_total Connections the kernel could not insert (a NAT port clash): their packet was dropped.
# TYPE natgw_conntrack_insert_failed_total counter
natgw_conntrack_insert_failed_total 3
# HELP natgw_conntrack_drop_total Packets dropped because no conntrack entry could be made (table full).
# TYPE natgw_conntrack_drop_total counter
natgw_conntrack_drop_total 1
# HELP natgw_conntrack_early_drop_total Entries evicted to make room for new ones (table near full).
# TYPE natgw_conntrack_early_drop_total counter
natgw_conntrack_early_drop_total 3
# HELP natgw_conntrack_invalid_total Packets conntrack could not classify.
# TYPE natgw_conntrack_invalid_total counter
natgw_conntrack_invalid_total 8
# HELP natgw_conntrack_entries Connections in the conntrack table (all of them, not only translated ones).
# TYPE natgw_conntrack_entries gauge
natgw_conntrack_entries 42
# HELP natgw_conntrack_entries_limit Size of the conntrack table (nf_conntrack_max); new connections fail beyond it.
# TYPE natgw_conntrack_entries_limit gauge
natgw_conntrack_entries_limit 262144
# HELP natgw_open_connections Translated connections open at the last sample.
# TYPE natgw_open_connections gauge
natgw_open_connections 0
# HELP natgw_vms VMs with at least one translated connection at the last sample.
# TYPE natgw_vms gauge
natgw_vms 0
# HELP natgw_vm_open_connections Open translated connections per VM at the last sample; only the top N VMs by connections (perVmMetrics.topN).
# TYPE natgw_vm_open_connections gauge
# HELP natgw_vm_port_usage Most connections from one VM to a single destination ip:port/protocol (Cloud NAT port_usage); top N VMs by connections.
# TYPE natgw_vm_port_usage gauge
# HELP natgw_vm_series_omitted VMs left out of the per-VM series by the top-N limit.
# TYPE natgw_vm_series_omitted gauge
natgw_vm_series_omitted 0
# HELP natgw_vm_sample_age_seconds Age of the per-VM figures (the sampler adapts its cadence to the table size).
# TYPE natgw_vm_sample_age_seconds gauge
natgw_vm_sample_age_seconds 0
# HELP natgw_log_entries_total Log entries written, by kind (translation, error).
# TYPE natgw_log_entries_total counter
natgw_log_entries_total{kind="error"} 5
# HELP natgw_log_entries_suppressed_total Log entries left out by the rate limit (logRateLimitPerSecond), by kind.
# TYPE natgw_log_entries_suppressed_total counter
# HELP natgw_config_source_ranges Source ranges in the config in effect.
# TYPE natgw_config_source_ranges gauge
natgw_config_source_ranges 0
# HELP natgw_config_timeout_seconds Conntrack timeouts in effect, by kind.
# TYPE natgw_config_timeout_seconds gauge
# HELP natgw_config_max_connections_per_vm Per-VM connection cap in effect; 0 when there is none.
# TYPE natgw_config_max_connections_per_vm gauge
natgw_config_max_connections_per_vm 0
# HELP natgw_config_reconcile_interval_seconds How often drift is checked and repaired.
# TYPE natgw_config_reconcile_interval_seconds gauge
natgw_config_reconcile_interval_seconds 0
# HELP natgw_deployment_info Deployment mode of this gateway: "single" is not highly available.
# TYPE natgw_deployment_info gauge
# HELP natgw_collector_success 1 when the collector worked on its last run (scrape-time: this scrape; background: its last sample).
# TYPE natgw_collector_success gauge
natgw_collector_success{collector="rules"} 1
natgw_collector_success{collector="conntrack_stats"} 1
# HELP natgw_ruleset_in_sync 1 when the live ruleset, sets and sysctls match the config.
# TYPE natgw_ruleset_in_sync gauge
natgw_ruleset_in_sync 1
# HELP natgw_ruleset_repairs_total Times the agent found drift and re-applied the data plane.
# TYPE natgw_ruleset_repairs_total counter
natgw_ruleset_repairs_total 0
# HELP natgw_ruleset_applies_total Times the data plane was applied (start, config change, repair).
# TYPE natgw_ruleset_applies_total counter
natgw_ruleset_applies_total 1
# HELP natgw_ruleset_apply_errors_total Failed attempts to apply the data plane.
# TYPE natgw_ruleset_apply_errors_total counter
natgw_ruleset_apply_errors_total 0
# HELP natgw_config_reloads_total Config changes applied at runtime.
# TYPE natgw_config_reloads_total counter
natgw_config_reloads_total 0
# HELP natgw_config_errors_total Config changes refused as invalid (the last good config stays).
# TYPE natgw_config_errors_total counter
natgw_config_errors_total 0
# HELP natgw_healthy 1 when /healthz would answer 200.
# TYPE natgw_healthy gauge
natgw_healthy 1
`
