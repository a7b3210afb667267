import { exitCode, UsageError } from '../common/errors.js';

const USAGE = `natgw — a self-managed NAT gateway for Google Compute Engine

Usage: natgw <command> [options]

Commands:
  agent      run the NAT agent on the NAT VM (or --cleanup to remove everything of ours)
  provision  create or converge a NAT gateway in one region
  status     show a gateway's resources and health
  destroy    remove a gateway (route first)
  whois      name the client VM that held a NAT IP:port at a time (port blocks)
  cost       compare Cloud NAT's price with natgw's for your traffic
  fallback   watch a gateway and move its clients to Cloud NAT while it is down (fallback watch)
  lab        run natgw end to end in a GCE-like lab of network namespaces (root)

Run 'natgw <command> --help' for a command's options.
`;

type CommandRunner = (argv: string[]) => Promise<number>;

// Each command is imported only when used: the provisioner's compute client alone costs seconds to load.
const commands: Record<string, () => Promise<CommandRunner>> = {
  agent: async () => (await import('../agent/main.js')).runAgentCli,
  provision: async () => (argv) => import('../provision/cli.js').then((m) => m.runProvisionCli('provision', argv)),
  status: async () => (argv) => import('../provision/cli.js').then((m) => m.runProvisionCli('status', argv)),
  destroy: async () => (argv) => import('../provision/cli.js').then((m) => m.runProvisionCli('destroy', argv)),
  whois: async () => (await import('../whois/cli.js')).runWhoisCli,
  cost: async () => (await import('../cost/cli.js')).runCostCli,
  fallback: async () => (await import('../fallback/cli.js')).runFallbackCli,
  lab: async () => (await import('../lab/cli.js')).runLabCli,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version') {
    const { version } = await import('./version.js');
    process.stdout.write(`${version}\n`);
    return 0;
  }
  const load = commands[command];
  if (load === undefined) {
    process.stderr.write(`natgw: unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }
  try {
    return await (await load())(rest);
  } catch (error) {
    // Bad input is the operator's to fix: the message alone. Anything else is ours: the stack helps a bug report.
    const text =
      error instanceof UsageError || !(error instanceof Error)
        ? String(error instanceof Error ? error.message : error)
        : (error.stack ?? error.message);
    process.stderr.write(`natgw ${command}: ${text}\n`);
    return exitCode(error);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`natgw: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
