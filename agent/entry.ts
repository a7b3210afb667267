// Entry point of the agent bundle shipped to the NAT VM: the agent alone, without the provisioner's dependencies.
import { runAgentCli } from './main.js';

runAgentCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`natgw agent: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
