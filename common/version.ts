import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// esbuild replaces this with package.json's version in the agent bundle, which has no package.json beside it on the VM.
declare const __NATGW_VERSION__: string | undefined;

/** The same code runs from dist/ (built), from source (tests) and from an installed package: walk up to package.json. */
export function findPackageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = path.dirname(from);
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

export const version: string =
  typeof __NATGW_VERSION__ === 'string'
    ? __NATGW_VERSION__
    : (JSON.parse(readFileSync(path.join(findPackageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
