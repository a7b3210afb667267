// The docs quote each command's --help instead of keeping a hand-written copy of it: a quoted block must be the CLI's
// own text, and a flag named in a docs table must be one the command has.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { captureStdout } from './helpers/capture-stdout.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
type HelpCommand = 'agent' | 'provision' | 'cost' | 'lab';

async function helpText(command: HelpCommand): Promise<string> {
  const { stdout } = await captureStdout(async () => {
    if (command === 'agent') await (await import('../agent/main.js')).runAgentCli(['--help']);
    if (command === 'provision') await (await import('../provision/cli.js')).runProvisionCli('provision', ['--help']);
    if (command === 'cost') await (await import('../cost/cli.js')).runCostCli(['--help']);
    if (command === 'lab') await (await import('../lab/cli.js')).runLabCli(['--help']);
  });
  return stdout;
}

/**
 * Which command's flags a document names, and where: `presented` (the first cell of a table row, or the flag that opens
 * a list item; the prose quotes other commands' flags) or `quoted` (every code span that starts with `--`).
 */
const DOC_FLAGS: Record<string, { command: HelpCommand; also?: HelpCommand; where: 'presented' | 'quoted' }> = {
  'docs/agent.md': { command: 'agent', where: 'presented' },
  'docs/cost.md': { command: 'cost', where: 'presented' },
  'docs/deploy.md': { command: 'provision', where: 'quoted' },
  'docs/ha.md': { command: 'provision', where: 'quoted' },
  // The lab's own flags are quoted from its --help; its tables name the provisioner's flags a lab feature stands for.
  // and its text names the lab commands' own flags (natgw lab failover --bulk).
  'docs/lab.md': { command: 'provision', also: 'lab', where: 'quoted' },
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

/** Every `--flag` the command's --help names (options, and flags quoted in its descriptions). */
const helpFlags = (help: string) => new Set([...help.matchAll(/(?<![\w-])(--[a-z0-9][a-z0-9-]*)/g)].map((match) => match[1]!));

/** The flags a document names (see DOC_FLAGS), outside the quoted --help blocks. */
function documentedFlags(text: string, where: 'presented' | 'quoted'): string[] {
  const prose = text.replace(QUOTED_HELP, '');
  if (where === 'quoted') return [...new Set([...prose.matchAll(/`(--[a-z0-9-]+)/g)].map((match) => match[1]!))];
  const flags = prose.split('\n').flatMap((line) => {
    const cell = /^\|([^|]*)\|/.exec(line)?.[1];
    if (cell !== undefined) return [...cell.matchAll(/`(--[a-z0-9-]+)/g)].map((match) => match[1]!);
    const item = /^\s*- `(--[a-z0-9-]+)/.exec(line)?.[1];
    return item === undefined ? [] : [item];
  });
  return [...new Set(flags)];
}

t.test('every flag in a docs table or flag list exists in that command’s --help', async (t) => {
  for (const [doc, { command, also, where }] of Object.entries(DOC_FLAGS)) {
    const text = readFileSync(path.join(REPO, doc), 'utf8');
    const help = helpFlags(`${await helpText(command)}\n${also === undefined ? '' : await helpText(also)}`);
    t.ok(help.size >= 3, `'natgw ${command} --help' names its flags (${help.size})`);
    const flags = documentedFlags(text, where);
    t.ok(flags.length > 0, `${doc} presents flags of 'natgw ${command}' (${flags.join(' ')})`);
    for (const flag of flags) t.ok(help.has(flag), `${doc} names ${flag}, which 'natgw ${command} --help' has`);
  }
});
