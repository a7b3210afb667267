// Workers change iptables, ipsets and sysctls: they must only ever run inside the lab namespace they are told about
// (`--netns NAME`, checked against /run/netns/NAME), never on the host.
import { statSync } from 'node:fs';

export function assertInsideLabNamespace(name: string | undefined): void {
  const here = statSync('/proc/self/ns/net');
  let expected: { dev: number; ino: number } | undefined;
  try {
    expected = name === undefined || !name.startsWith('natgw-lab-') ? undefined : statSync(`/run/netns/${name}`);
  } catch {
    expected = undefined;
  }
  if (expected === undefined || expected.ino !== here.ino || expected.dev !== here.dev) {
    process.stderr.write(
      `refusing to run outside the lab namespace ${name ?? '(none given)'}: run me with \`ip netns exec NAME … --netns NAME\`\n`,
    );
    process.exit(3);
  }
}
