// The provisioner's own layering, as docs/architecture.md draws it ("The provisioner's shape"): the planner and its
// vocabulary are pure, resource kinds know no mode, and only provision/gcp/ talks to the Compute client.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function files(dir: string): string[] {
  return readdirSync(path.join(REPO, dir)).flatMap((entry) => {
    const relative = path.join(dir, entry);
    if (statSync(path.join(REPO, relative)).isDirectory()) return files(relative);
    return entry.endsWith('.ts') ? [relative] : [];
  });
}

/** Every import of `file`, relative ones as repository paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(REPO, file), 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)]
    .map((match) => match[1] ?? match[2] ?? '')
    .map((specifier) => (specifier.startsWith('.') ? path.join(path.dirname(file), specifier).replace(/\.js$/, '.ts') : specifier));
}

const provision = files('provision');

t.test('only provision/gcp/ imports the Compute client', async (t) => {
  const offenders = provision.filter((file) => !file.startsWith('provision/gcp/') && importsOf(file).includes('@google-cloud/compute'));
  t.same(offenders, []);
});

t.test('resource kinds know no mode and no command', async (t) => {
  const kinds = provision.filter((file) => file.startsWith('provision/kinds/'));
  t.ok(kinds.length >= 10, `${kinds.length} kind modules`);
  const offenders = kinds.flatMap((file) =>
    importsOf(file)
      .filter((target) => /^provision\/(single|ha)\//.test(target) || target === 'provision/cli.ts' || target === 'provision/pipeline.ts')
      .map((target) => `${file} → ${target}`),
  );
  t.same(offenders, []);
});

t.test('the planner vocabulary and the reporter do no I/O', async (t) => {
  for (const file of ['provision/plan.ts', 'provision/model.ts', 'provision/report.ts']) {
    const io = importsOf(file).filter((target) => target.startsWith('provision/gcp/') || target.startsWith('node:'));
    t.same(io, [], file);
  }
});

t.test('the command line names no mode-specific check', async (t) => {
  const text = readFileSync(path.join(REPO, 'provision/cli.ts'), 'utf8');
  t.notMatch(text, /hasHaResources|hasStatefulResources|options\.stateful|options\.ha\b/);
});
