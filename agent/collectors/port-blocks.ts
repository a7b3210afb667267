// Port blocks: how full the NAT IP's port space is, per VM (top N by use) its block, its use and its refusals, and the
// connections that left from the shared overflow ports. Declared only when the agent has a port-block manager.
import { Counter, Gauge } from 'prom-client';
import type { PortBlockManager } from '../port-block-manager.js';
import { blockSize } from '../port-blocks.js';
import { OVERFLOW_COUNTER } from '../ruleset.js';
import type { Collector } from './collector.js';
import type { TableSummary } from './conntrack-table.js';

export const portBlocksCollector = (
  portBlocks: PortBlockManager,
  usage: () => TableSummary | undefined,
  topN: () => number,
): Collector => ({
  register({ registry, scrape, monotonic }) {
    const perVm = () => {
      const used = new Map((usage()?.vms ?? []).map((vm) => [vm.vm, vm.portUsage]));
      return portBlocks
        .table()
        .blocks.filter((block) => block.until === undefined)
        .map((block) => ({ vm: block.vm, size: blockSize(block), used: used.get(block.vm) ?? 0 }))
        .sort((a, b) => b.used / b.size - a.used / a.size || a.vm.localeCompare(b.vm));
    };
    new Gauge({
      name: 'natgw_port_space_ports',
      help: 'Ports of the NAT IP for port blocks (1024-61439; 61440-65535 are the overflow ports): total, and used by blocks VMs hold.',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        this.reset();
        if (!portBlocks.enabled) return;
        const { space } = portBlocks.table();
        this.set({ state: 'total' }, space.totalPorts);
        this.set({ state: 'used' }, space.usedPorts);
      },
    });
    new Gauge({
      name: 'natgw_port_blocks',
      help: 'VMs holding a port block.',
      registers: [registry],
      collect() {
        this.set(portBlocks.enabled ? portBlocks.table().blocks.filter((block) => block.until === undefined).length : 0);
      },
    });
    new Counter({
      name: 'natgw_port_block_clients_refused_total',
      help: 'New clients refused because the port space had no block left for them.',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(portBlocks.refusedClients);
      },
    });
    new Gauge({
      name: 'natgw_vm_port_block_size',
      help: "Ports in a VM's block; top N VMs by block use (perVmMetrics.topN).",
      labelNames: ['vm'],
      registers: [registry],
      collect() {
        this.reset();
        for (const vm of perVm().slice(0, topN())) this.set({ vm: vm.vm }, vm.size);
      },
    });
    new Gauge({
      name: 'natgw_vm_port_block_used_ports',
      help: 'Most connections from a VM to one destination ip:port/protocol: the ports of its block in use there; top N by use.',
      labelNames: ['vm'],
      registers: [registry],
      collect() {
        this.reset();
        for (const vm of perVm().slice(0, topN())) this.set({ vm: vm.vm }, vm.used);
      },
    });
    const refusalsSeen = new Map<string, number>();
    new Counter({
      name: 'natgw_vm_port_block_refusals_total',
      help: "New connections refused because the VM's block was full for their destination; top N VMs by refusals.",
      labelNames: ['vm'],
      registers: [registry],
      async collect() {
        const refusals = await portBlocks.refusalsPerVm().catch(() => new Map<string, number>());
        this.reset();
        const top = [...refusals.entries()].sort((a, b) => b[1] - a[1]).slice(0, topN());
        for (const [vm, packets] of top) {
          // The kernel's count restarts with the table: never let the series go down.
          const total = Math.max(refusalsSeen.get(vm) ?? 0, packets);
          refusalsSeen.set(vm, total);
          this.inc({ vm }, total);
        }
      },
    });
    new Counter({
      name: 'natgw_port_block_overflow_connections_total',
      help: 'Connections translated from the shared overflow ports because their VM had no port block yet (counted by the kernel); none is dropped for want of a block.',
      registers: [registry],
      async collect() {
        const { rules } = await scrape();
        this.reset();
        if (rules === undefined || !portBlocks.enabled) return;
        this.inc(monotonic.observe(`${OVERFLOW_COUNTER}:packets`, rules.get(OVERFLOW_COUNTER)?.packets ?? 0));
      },
    });
  },
  status: (): Record<string, { ok: boolean }> =>
    portBlocks.enabled ? { port_block_learn: { ok: portBlocks.learnerOk }, port_block_overflow: { ok: portBlocks.overflow.ok } } : {},
});
