// The docs quote each command's --help instead of keeping a hand-written copy of it: a quoted block must be the CLI's
// own text, and a flag named in a docs table must be one the command has.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
type HelpCommand = 'agent' | 'provision' | 'cost' | 'lab';

async function helpText(command: HelpCommand): Promise<string> {
  let text = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    if (command === 'agent') await (await import('../agent/main.js')).runAgentCli(['--help']);
    if (command === 'provision') await (await import('../provision/cli.js')).runProvisionCli('provision', ['--help']);
    if (command === 'cost') await (await import('../cost/cli.js')).runCostCli(['--help']);
    if (command === 'lab') await (await import('../lab/cli.js')).runLabCli(['--help']);
  } finally {
    process.stdout.write = write;
  }
  return text;
}

/** Which command a document's flag tables describe. */
const DOC_COMMAND: Record<string, HelpCommand> = {
  'docs/agent.md': 'agent',
  'docs/deploy.md': 'provision',
  'docs/ha.md': 'provision',
  'docs/cost.md': 'cost',
  'docs/lab.md': 'lab',
};

const docs = [
  'README.md',
  ...readdirSync(path.join(REPO, 'docs'))
    .filter((file) => file.endsWith('.md'))
    .map((file) => `docs/${file}`),
];
const QUOTED_HELP = /<!-- natgw (agent|provision|cost|lab) --help -->\n```text\n([\s\S]*?)```/g;

t.test('every quoted --help block is the command’s own output', async (t) => {
  let quoted = 0;
  for (const doc of docs) {
    const text = readFileSync(path.join(REPO, doc), 'utf8');
    for (const match of text.matchAll(QUOTED_HELP)) {
      quoted++;
      const command = match[1] as HelpCommand;
      t.equal(
        match[2],
        await helpText(command),
        `${doc}: the quoted 'natgw ${command} --help' is current (paste the output of the command)`,
      );
    }
  }
  t.ok(quoted >= 3, `the docs quote --help (found ${quoted} blocks)`);
});

t.test('every flag in a docs table exists in that command’s --help', async (t) => {
  for (const [doc, command] of Object.entries(DOC_COMMAND)) {
    let text: string;
    try {
      text = readFileSync(path.join(REPO, doc), 'utf8');
    } catch {
      continue;
    }
    const help = await helpText(command);
    const tableFlags = text
      .split('\n')
      .filter((line) => line.startsWith('| `--'))
      .flatMap((line) => [...(line.split('|')[1] ?? '').matchAll(/`(--[a-z0-9-]+)/g)].map((match) => match[1]!));
    for (const flag of new Set(tableFlags))
      t.match(help, new RegExp(`${flag}\\b`), `${doc} names ${flag}, which 'natgw ${command} --help' has`);
  }
});
