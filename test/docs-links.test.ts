// Every relative link in README.md and docs/*.md, and every docs/*.md path the code prints (cli/, agent/, provision/,
// lab/), must resolve to a file in the repository: users follow exactly these.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// Inline links and images [text](target "title"), and reference definitions [name]: target.
const INLINE = /!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
const REFERENCE = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm;
const DOCS_PATH = /\bdocs\/[A-Za-z0-9_.-]+\.md\b/g;

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#');

/** Markdown text without fenced code blocks and inline code: links there are examples, not links. */
const withoutCode = (text: string) => text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');

/** Broken relative links of the markdown files, as "file: target". */
export function brokenMarkdownLinks(root: string, files: string[]): string[] {
  const broken: string[] = [];
  for (const file of files) {
    const text = withoutCode(readFileSync(join(root, file), 'utf8'));
    for (const match of [...text.matchAll(INLINE), ...text.matchAll(REFERENCE)]) {
      const target = match[1]!;
      if (isExternal(target)) continue;
      const path = decodeURIComponent(target.split('#')[0]!.split('?')[0]!);
      if (path === '') continue;
      const absolute = path.startsWith('/') ? join(root, path) : resolve(root, dirname(file), path);
      if (!existsSync(absolute)) broken.push(`${file}: ${target}`);
    }
  }
  return broken;
}

function tsFiles(root: string, dir: string): string[] {
  const base = join(root, dir);
  if (!existsSync(base)) return [];
  return readdirSync(base, { recursive: true, encoding: 'utf8' })
    .map((entry) => join(base, entry))
    .filter((path) => path.endsWith('.ts') && !path.includes('node_modules') && statSync(path).isFile())
    .map((path) => relative(root, path));
}

/** docs/*.md paths mentioned in code that do not exist, as "file: path". */
export function brokenDocPaths(root: string, dirs: string[]): string[] {
  const broken: string[] = [];
  for (const file of dirs.flatMap((dir) => tsFiles(root, dir))) {
    for (const [path] of readFileSync(join(root, file), 'utf8').matchAll(DOCS_PATH)) {
      if (!existsSync(join(root, path))) broken.push(`${file}: ${path}`);
    }
  }
  return [...new Set(broken)];
}

const markdownFiles = (root: string) => [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

t.test('every relative link in README.md and docs/*.md resolves', async (t) => {
  const files = markdownFiles(ROOT);
  t.ok(files.includes('docs/deploy.md') && files.includes('docs/ha.md'), 'the docs the CLI points to exist');
  t.same(brokenMarkdownLinks(ROOT, files), []);
});

t.test('every docs/*.md path in cli/, agent/, provision/ and lab/ exists', async (t) => {
  const mentioned = tsFiles(ROOT, 'provision').some((file) => readFileSync(join(ROOT, file), 'utf8').includes('docs/deploy.md'));
  t.ok(mentioned, 'the provisioner does point at docs/deploy.md (the check below looks at real mentions)');
  t.same(brokenDocPaths(ROOT, ['cli', 'agent', 'provision', 'lab']), []);
});

t.test('the checks catch a broken link, a broken reference and a missing doc path', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'natgw-links-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'docs'));
  mkdirSync(join(root, 'cli'));
  // Built, not written out: a repository-wide scan for docs paths in .ts files would take these fixtures at their word.
  const doc = (name: string) => `docs/${name}`;
  writeFileSync(join(root, doc('ok.md')), '# ok\n');
  writeFileSync(
    join(root, 'README.md'),
    `[fine](${doc('ok.md')}#section) [web](https://example.com) [anchor](#top)\n[gone](${doc('missing.md')})\n![img](${doc('nope.svg')})\n\n\`\`\`\n[example](not/checked.md)\n\`\`\`\n[ref]: ../outside.md\n`,
  );
  writeFileSync(join(root, 'cli', 'main.ts'), `console.log('see ${doc('ok.md')} and ${doc('absent.md')}');\n`);
  t.same(brokenMarkdownLinks(root, markdownFiles(root)), [
    `README.md: ${doc('missing.md')}`,
    `README.md: ${doc('nope.svg')}`,
    'README.md: ../outside.md',
  ]);
  t.same(brokenDocPaths(root, ['cli', 'agent']), [`cli/main.ts: ${doc('absent.md')}`]);
});
