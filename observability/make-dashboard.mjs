// Writes grafana-dashboard.json: panels are listed here once, the grid layout is computed.
import { writeFileSync } from 'node:fs';

// Grafana's own variable syntax, not a template literal.
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana substitutes ${datasource} itself
const ds = { type: 'prometheus', uid: '${datasource}' };
const sel = 'instance=~"$instance"';
const panels = [
  ['Health', 'stat', [['min(natgw_healthy{' + sel + '})', 'healthy']], 'none', 6],
  ['Ruleset in sync', 'stat', [['min(natgw_ruleset_in_sync{' + sel + '})', 'in sync']], 'none', 6],
  ['Deployment mode', 'stat', [['count by (mode) (natgw_deployment_info{' + sel + '})', '{{mode}}']], 'none', 6],
  [
    'Conntrack table use',
    'gauge',
    [['max(natgw_conntrack_entries{' + sel + '} / natgw_conntrack_entries_limit{' + sel + '})', 'used']],
    'percentunit',
    6,
  ],
  [
    'Throughput',
    'timeseries',
    [['sum by (direction) (rate(natgw_forwarded_bytes_total{' + sel + '}[$__rate_interval])) * 8', '{{direction}}']],
    'bps',
    12,
  ],
  [
    'Packets',
    'timeseries',
    [['sum by (direction) (rate(natgw_forwarded_packets_total{' + sel + '}[$__rate_interval]))', '{{direction}}']],
    'pps',
    12,
  ],
  [
    'Dropped packets by reason',
    'timeseries',
    [['sum by (reason) (rate(natgw_dropped_packets_total{' + sel + '}[$__rate_interval]))', '{{reason}}']],
    'pps',
    12,
  ],
  [
    'Connections opened / closed (closed: only with translation logs on)',
    'timeseries',
    [
      ['sum(rate(natgw_connections_opened_total{' + sel + '}[$__rate_interval]))', 'opened'],
      ['sum by (protocol) (rate(natgw_connections_closed_total{' + sel + '}[$__rate_interval]))', 'closed {{protocol}}'],
    ],
    'cps',
    12,
  ],
  [
    'Open translated connections',
    'timeseries',
    [
      ['sum(natgw_open_connections{' + sel + '})', 'translated'],
      ['sum(natgw_conntrack_entries{' + sel + '})', 'conntrack entries'],
      ['sum(natgw_conntrack_entries_limit{' + sel + '})', 'limit'],
    ],
    'short',
    12,
  ],
  [
    'Kernel conntrack trouble',
    'timeseries',
    [
      ['sum(rate(natgw_conntrack_insert_failed_total{' + sel + '}[$__rate_interval]))', 'insert failed'],
      ['sum(rate(natgw_conntrack_early_drop_total{' + sel + '}[$__rate_interval]))', 'early drop'],
      ['sum(rate(natgw_conntrack_drop_total{' + sel + '}[$__rate_interval]))', 'drop'],
    ],
    'ops',
    12,
  ],
  ['Top VMs: open connections', 'timeseries', [['topk(10, natgw_vm_open_connections{' + sel + '})', '{{vm}}']], 'short', 12],
  [
    'Top VMs: port usage (max connections to one destination)',
    'timeseries',
    [
      ['topk(10, natgw_vm_port_usage{' + sel + '})', '{{vm}}'],
      ['max(natgw_config_max_connections_per_vm{' + sel + '})', 'per-VM cap (0 = none)'],
    ],
    'short',
    12,
  ],
  [
    'Port space given to VM blocks',
    'gauge',
    [
      [
        'max(natgw_port_space_ports{state="used", ' + sel + '} / ignoring(state) natgw_port_space_ports{state="total", ' + sel + '})',
        'used',
      ],
    ],
    'percentunit',
    6,
  ],
  [
    'VMs holding port blocks / clients refused',
    'stat',
    [
      ['sum(natgw_port_blocks{' + sel + '})', 'VMs with a block'],
      ['sum(increase(natgw_port_block_clients_refused_total{' + sel + '}[1h]))', 'refused (1h)'],
    ],
    'short',
    6,
  ],
  [
    'Top VMs: port block use',
    'timeseries',
    [['topk(10, natgw_vm_port_block_used_ports{' + sel + '} / natgw_vm_port_block_size{' + sel + '})', '{{vm}}']],
    'percentunit',
    12,
  ],
  [
    'Top VMs: refused for a full port block',
    'timeseries',
    [['topk(10, sum by (vm) (rate(natgw_vm_port_block_refusals_total{' + sel + '}[$__rate_interval])))', '{{vm}}']],
    'pps',
    12,
  ],
  ['Top VMs: port block size', 'timeseries', [['topk(10, natgw_vm_port_block_size{' + sel + '})', '{{vm}}']], 'short', 12],
  [
    'Drift repairs and config changes',
    'timeseries',
    [
      ['sum(increase(natgw_ruleset_repairs_total{' + sel + '}[$__rate_interval]))', 'repairs'],
      ['sum(increase(natgw_config_reloads_total{' + sel + '}[$__rate_interval]))', 'config reloads'],
      ['sum(increase(natgw_config_errors_total{' + sel + '}[$__rate_interval]))', 'configs refused'],
    ],
    'short',
    12,
  ],
  [
    'Logs written / suppressed',
    'timeseries',
    [
      ['sum by (kind) (rate(natgw_log_entries_total{' + sel + '}[$__rate_interval]))', 'written {{kind}}'],
      ['sum by (kind) (rate(natgw_log_entries_suppressed_total{' + sel + '}[$__rate_interval]))', 'suppressed {{kind}}'],
    ],
    'ops',
    12,
  ],
  [
    'Stateful HA: role, peer, resync (empty unless stateful)',
    'timeseries',
    [
      ['max by (instance) (natgw_role{role="active", ' + sel + '})', 'active {{instance}}'],
      ['min by (instance) (natgw_sync_peer_up{' + sel + '})', 'peer up {{instance}}'],
      ['min by (instance) (natgw_sync_resynced{' + sel + '})', 'resynced {{instance}}'],
    ],
    'short',
    12,
  ],
  [
    'Stateful HA: standby coverage and sync traffic',
    'timeseries',
    [
      ['min by (instance) (natgw_sync_state_ratio{' + sel + '})', 'flows ÷ peer {{instance}}'],
      ['sum by (instance, direction) (rate(natgw_sync_bytes_total{' + sel + '}[$__rate_interval]))', 'B/s {{direction}} {{instance}}'],
      ['sum by (instance) (increase(natgw_sync_lost_total{' + sel + '}[$__rate_interval]))', 'lost {{instance}}'],
      ['max by (instance) (natgw_sync_last_received_age_seconds{' + sel + '})', 'last sync (s) {{instance}}'],
    ],
    'short',
    12,
  ],
  [
    'Collectors',
    'timeseries',
    [
      ['min by (collector) (natgw_collector_success{' + sel + '})', 'ok {{collector}}'],
      ['max by (collector) (natgw_collector_duration_seconds{' + sel + '})', 'seconds {{collector}}'],
    ],
    'short',
    12,
  ],
  [
    'Agent process',
    'timeseries',
    [
      ['max(process_resident_memory_bytes{job="natgw", ' + sel + '})', 'RSS'],
      ['max(natgw_vm_sample_age_seconds{' + sel + '})', 'per-VM sample age (s)'],
    ],
    'short',
    12,
  ],
];

let x = 0;
let y = 0;
const built = panels.map(([title, type, targets, unit, width], index) => {
  if (x + width > 24) {
    x = 0;
    y += 8;
  }
  const panel = {
    id: index + 1,
    title,
    type,
    datasource: ds,
    gridPos: { x, y, w: width, h: type === 'stat' || type === 'gauge' ? 4 : 8 },
    fieldConfig: { defaults: { unit }, overrides: [] },
    options: type === 'timeseries' ? { legend: { displayMode: 'list', placement: 'bottom' } } : {},
    targets: targets.map(([expr, legendFormat], ref) => ({ refId: String.fromCharCode(65 + ref), datasource: ds, expr, legendFormat })),
  };
  x += width;
  return panel;
});

const dashboard = {
  title: 'natgw — NAT gateway',
  uid: 'natgw-overview',
  description: 'natgw agents: traffic, drops by reason, connections, per-VM usage, drift and health (Cloud NAT metric parity).',
  tags: ['natgw', 'nat', 'gce'],
  schemaVersion: 39,
  version: 1,
  editable: true,
  time: { from: 'now-6h', to: 'now' },
  refresh: '30s',
  templating: {
    list: [
      { name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Prometheus' },
      {
        name: 'instance',
        type: 'query',
        datasource: ds,
        query: 'label_values(natgw_build_info, instance)',
        includeAll: true,
        multi: true,
        current: { text: 'All', value: '$__all' },
        allValue: '.*',
        refresh: 2,
      },
    ],
  },
  panels: built,
};
writeFileSync(new URL('grafana-dashboard.json', import.meta.url), `${JSON.stringify(dashboard, null, 2)}\n`);
