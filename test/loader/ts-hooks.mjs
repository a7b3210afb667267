// Module hooks that run natgw's TypeScript: `.js` imports of project files resolve to their `.ts` source, and `.ts`
// files are stripped of types by esbuild, with a cache keyed by the source itself (not its path), so a copy of the
// tree in a new folder, as CI makes, starts warm.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const cacheDir = path.join(tmpdir(), `natgw-ts-${userInfo().uid}`);
let esbuild;

const TRANSFORM = {
  loader: 'ts',
  format: 'esm',
  target: 'node20',
  sourcemap: 'inline',
  // What tsconfig.json's target (ES2022) implies for class fields, as tsc compiles them.
  tsconfigRaw: { compilerOptions: { useDefineForClassFields: true } },
};
// A new esbuild or new options make new output: they are part of the cache key.
const TRANSFORM_ID = JSON.stringify([createRequire(import.meta.url)('esbuild/package.json').version, TRANSFORM]);

export async function resolve(specifier, context, nextResolve) {
  const parent = context.parentURL;
  if (
    specifier.endsWith('.js') &&
    (specifier.startsWith('./') || specifier.startsWith('../')) &&
    parent?.startsWith('file:') &&
    parent.endsWith('.ts')
  ) {
    const source = new URL(`${specifier.slice(0, -3)}.ts`, parent);
    if (existsSync(source)) return { url: source.href, format: 'module', shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  // TypeScript (resolveJsonModule) imports JSON without `with { type: 'json' }`, which Node refuses: a module instead.
  if (url.startsWith('file:') && url.endsWith('.json') && context.importAttributes?.type !== 'json')
    return { format: 'module', source: `export default ${readFileSync(fileURLToPath(url), 'utf8')};`, shortCircuit: true };
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const file = fileURLToPath(url);
  const source = readFileSync(file, 'utf8');
  // The source map names the file relative to itself, so the output depends on the name and source, not the folder.
  const name = path.basename(file);
  const key = createHash('sha1').update(TRANSFORM_ID).update('\0').update(name).update('\0').update(source).digest('hex');
  const cached = path.join(cacheDir, `${key}.mjs`);
  let code;
  try {
    code = readFileSync(cached, 'utf8');
  } catch {
    esbuild ??= await import('esbuild');
    ({ code } = esbuild.transformSync(source, { ...TRANSFORM, sourcefile: name }));
    try {
      mkdirSync(cacheDir, { recursive: true });
      const temporary = `${cached}.${process.pid}`;
      writeFileSync(temporary, code);
      renameSync(temporary, cached);
    } catch {}
  }
  return { format: 'module', source: code, shortCircuit: true };
}
