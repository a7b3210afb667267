// The layering docs/architecture.md promises, checked on the source: no import cycles, nothing below the CLI imports
// cli/, the agent never loads the provisioner or @google-cloud/compute, and one module starts processes.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_DIRS = ['agent', 'cli', 'common', 'cost', 'fallback', 'lab', 'provision', 'whois', 'bench'];

function sourceFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(path.join(REPO, dir));
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const relative = path.join(dir, entry);
    if (statSync(path.join(REPO, relative)).isDirectory()) return sourceFiles(relative);
    return /\.(ts|mjs)$/.test(entry) && !entry.endsWith('.d.ts') ? [relative] : [];
  });
}

const files = SOURCE_DIRS.flatMap(sourceFiles);
/** Imports as written (static and dynamic), resolved to repository paths for relative ones. */
const imports = new Map<string, string[]>(
  files.map((file) => {
    const text = readFileSync(path.join(REPO, file), 'utf8');
    // `import … from 'x'`, `export … from 'x'`, `import 'x'` and `import('x')`, in either quote.
    const specifiers = [
      ...text.matchAll(
        /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
      ),
    ].map((match) => match[1] ?? match[2] ?? match[3] ?? '');
    return [
      file,
      specifiers.map((specifier) =>
        specifier.startsWith('.') ? path.join(path.dirname(file), specifier).replace(/\.js$/, '.ts') : specifier,
      ),
    ];
  }),
);

t.test('the source tree is found', async (t) => {
  t.ok(files.length > 50, `${files.length} source files`);
  t.ok(imports.get('lab/lab.ts')?.includes('lab/model.ts'), 'relative imports resolve to repository paths');
});

t.test('nothing outside cli/ and bin/ imports cli/', async (t) => {
  const offenders = [...imports].filter(
    ([file, targets]) => !file.startsWith('cli/') && targets.some((target) => target.startsWith('cli/')),
  );
  t.same(
    offenders.map(([file]) => file),
    [],
  );
});

t.test('no import cycles', async (t) => {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (file: string, trail: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      cycles.push([...trail.slice(trail.indexOf(file)), file].join(' → '));
      return;
    }
    state.set(file, 'open');
    for (const target of imports.get(file) ?? []) if (imports.has(target)) visit(target, [...trail, file]);
    state.set(file, 'done');
  };
  for (const file of imports.keys()) visit(file, []);
  t.same(cycles, []);
});

t.test('the agent stays small and self-contained', async (t) => {
  for (const [file, targets] of imports) {
    if (!file.startsWith('agent/')) continue;
    for (const target of targets) {
      t.notOk(
        target.startsWith('provision/') || target.startsWith('lab/') || target.startsWith('cost/'),
        `${file} does not import ${target}`,
      );
      t.not(target, '@google-cloud/compute', `${file} does not import @google-cloud/compute`);
    }
  }
  const execaUsers = [...imports].filter(([, targets]) => targets.includes('execa')).map(([file]) => file);
  t.same(execaUsers, ['agent/runner.ts'], 'only agent/runner.ts starts processes with execa');
});

t.test('a wait for a condition goes through common/wait.ts, not a loop of its own', async (t) => {
  // bench/ and lab/bin/ run for a set time, which is what they measure; waitOperation long-polls GCE's
  // operations.wait, which blocks server-side until the operation is done, so nothing there sleeps between looks.
  const exempt = (file: string) =>
    file === 'common/wait.ts' || file.startsWith('bench/') || file.startsWith('lab/bin/') || file === 'provision/gcp/call.ts';
  const helpers = readdirSync(path.join(REPO, 'test/helpers'))
    .filter((entry) => entry.endsWith('.ts'))
    .map((entry) => `test/helpers/${entry}`);
  const loops = [...files, ...helpers].filter(
    (file) => !exempt(file) && /\bdeadline\s*=\s*[\w.]*now\(\)\s*\+/.test(readFileSync(path.join(REPO, file), 'utf8')),
  );
  t.same(loops, [], 'waitUntil/waitFor from common/wait.ts bound the wait and name it on timeout');
});

// ---- docs/architecture.md's "Code layout" table, checked against the real import graph ----

const LAYERED_DIRS = ['agent', 'provision', 'fallback', 'lab', 'cli', 'cost', 'common', 'whois', 'bench'];

interface LayoutRow {
  /** Folders (ending in /) and files the row governs. */
  scopes: string[];
  /** What they may import across folders; 'everything' is not checked. */
  mayImport: string[] | 'everything';
  line: string;
}

/** The rows of the table under "## Code layout" (first column: scopes; last: what they may import). */
export function layoutTable(markdown: string): LayoutRow[] {
  const section = markdown.split(/^## /m).find((part) => part.startsWith('Code layout'));
  if (section === undefined) throw new Error('docs/architecture.md has no "## Code layout" section');
  const codeSpans = (cell: string) => [...cell.replace(/\([^)]*\)/g, '').matchAll(/`([^`]+)`/g)].map((match) => match[1]!);
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const cells = line.split('|').map((cell) => cell.trim());
      const last = cells.at(-2) ?? '';
      return {
        scopes: codeSpans(cells[1] ?? ''),
        mayImport: last === 'everything' ? 'everything' : last === '—' || last === 'nothing of ours' ? [] : codeSpans(last),
        line,
      };
    });
}

/** The most specific row naming `file`: its own, else its folder's (the longest folder prefix). */
function governingRow(rows: LayoutRow[], file: string): LayoutRow | undefined {
  let best: { row: LayoutRow; length: number } | undefined;
  for (const row of rows)
    for (const scope of row.scopes) {
      const matches = scope.endsWith('/') ? file.startsWith(scope) : file === scope;
      const length = matches ? (scope.endsWith('/') ? scope.length : Number.MAX_SAFE_INTEGER) : -1;
      if (length > (best?.length ?? -1)) best = { row, length };
    }
  return best?.row;
}

const topFolder = (file: string) => file.split('/')[0]!;
const allows = (entry: string, target: string) => (entry.endsWith('/') ? target.startsWith(entry) : target === entry);

/**
 * Problems with the table as a description of `graph` (file → the repository files it imports): an import across
 * folders that the file's row does not allow, a file no row governs, and an allowed entry no governed file uses.
 */
export function layoutProblems(rows: LayoutRow[], graph: Map<string, string[]>): string[] {
  const problems: string[] = [];
  const used = new Map<LayoutRow, Set<string>>();
  for (const [file, targets] of graph) {
    const row = governingRow(rows, file);
    if (row === undefined) {
      problems.push(`${file}: no row of the table governs it`);
      continue;
    }
    if (row.mayImport === 'everything') continue;
    for (const target of targets) {
      if (topFolder(target) === topFolder(file)) continue;
      const entry = row.mayImport.find((candidate) => allows(candidate, target));
      if (entry === undefined) problems.push(`${file} imports ${target}, which its row (${row.scopes.join(', ')}) does not allow`);
      else used.set(row, (used.get(row) ?? new Set()).add(entry));
    }
  }
  for (const row of rows) {
    if (row.mayImport === 'everything') continue;
    for (const entry of row.mayImport)
      if (!used.get(row)?.has(entry))
        problems.push(`${row.scopes.join(', ')} may import ${entry}, but none of its files does: a stale entry`);
  }
  return problems;
}

/** Imports of the layered folders that point at repository source files (packages are checked above). */
function repositoryGraph(): Map<string, string[]> {
  return new Map(
    [...imports]
      .filter(([file]) => LAYERED_DIRS.includes(topFolder(file)))
      .map(([file, targets]) => [file, targets.filter((target) => LAYERED_DIRS.includes(topFolder(target)) || target.startsWith('bin/'))]),
  );
}

t.test("docs/architecture.md's import table is the real import graph", async (t) => {
  const rows = layoutTable(readFileSync(path.join(REPO, 'docs/architecture.md'), 'utf8'));
  t.ok(rows.length >= 8, `the table has ${rows.length} rows`);
  const graph = repositoryGraph();
  t.ok(graph.size > 50, `${graph.size} source files in ${LAYERED_DIRS.join(', ')}`);
  t.same(layoutProblems(rows, graph), [], 'every import across folders is allowed by its row, and every allowed entry is used');
});

t.test('the layout check finds a stray import, an ungoverned file and a stale entry', async (t) => {
  const rows = layoutTable(
    [
      '## Code layout',
      '| folder | what | may import |',
      '|---|---|---|',
      '| `common/` | leaves (`errors.ts`) | nothing of ours |',
      '| `agent/` | the agent | `common/` |',
      '| `lab/` | the lab | `common/`, `agent/runner.ts` (commands) |',
      '| `lab/cli.ts` | its CLI | `common/`, `provision/ha/checks.ts` |',
      '| `bench/` | benchmarks | everything |',
    ].join('\n'),
  );
  const graph = new Map([
    ['common/errors.ts', []],
    ['agent/main.ts', ['common/errors.ts', 'agent/runner.ts']],
    ['lab/lab.ts', ['agent/runner.ts', 'common/errors.ts', 'lab/model.ts', 'agent/config.ts']],
    ['lab/cli.ts', ['common/errors.ts', 'lab/lab.ts']],
    ['bench/x.ts', ['provision/cli.ts']],
    ['whois/cli.ts', []],
  ]);
  t.same(layoutProblems(rows, graph), [
    'lab/lab.ts imports agent/config.ts, which its row (lab/) does not allow',
    'whois/cli.ts: no row of the table governs it',
    'lab/cli.ts may import provision/ha/checks.ts, but none of its files does: a stale entry',
  ]);
});
