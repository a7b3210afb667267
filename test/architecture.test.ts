// The layering docs/architecture.md promises, checked on the source: no import cycles, nothing below the CLI imports
// cli/, the agent never loads the provisioner or @google-cloud/compute, and one module starts processes.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_DIRS = ['agent', 'cli', 'common', 'cost', 'lab', 'provision', 'whois', 'bench'];

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
    const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)].map(
      (match) => match[1] ?? match[2] ?? '',
    );
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
