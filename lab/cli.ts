import { parseArgs } from 'node:util';
import { UsageError } from '../cli/errors.js';

const USAGE = `Usage: natgw lab <demo|down|status> [options]

A GCE-like VPC on this machine, built from network namespaces (needs root; nothing is linked to the host's network).

  demo     build a lab, turn a VM into a NAT with the real agent, send TCP/UDP/ICMP from private VMs,
           show what the internet saw and what the agent reports, then tear everything down
  status   list namespaces left by labs on this machine
  down     remove every lab namespace on this machine (natgw-lab-*) and the processes inside them
`;

export async function runLabCli(argv: string[]): Promise<number> {
  const { positionals, values } = (() => {
    try {
      return parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h', default: false } }, allowPositionals: true, strict: true });
    } catch (error) {
      throw new UsageError(`${(error as Error).message}\n\n${USAGE}`);
    }
  })();
  const [command] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  const { Lab, removeNamespace } = await import('./lab.js');
  switch (command) {
    case 'demo': {
      const leftovers = Lab.leftovers();
      if (leftovers.length > 0) throw new UsageError(`a previous lab was left behind (${leftovers.join(', ')}); remove it with 'natgw lab down'`);
      const { runDemo } = await import('./demo.js');
      return runDemo((line) => process.stdout.write(`${line}\n`));
    }
    case 'status': {
      const leftovers = Lab.leftovers();
      process.stdout.write(leftovers.length === 0 ? 'no lab namespaces on this machine\n' : `${leftovers.join('\n')}\n`);
      return 0;
    }
    case 'down': {
      const leftovers = Lab.leftovers();
      for (const namespace of leftovers) removeNamespace(namespace);
      process.stdout.write(leftovers.length === 0 ? 'nothing to remove\n' : `removed ${leftovers.length} namespaces\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown lab command '${command}'\n\n${USAGE}`);
  }
}
