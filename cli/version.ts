import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The same code runs from dist/ (built) and from source (tests): find package.json by walking up.
function findPackageJson(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found');
    dir = parent;
  }
  return path.join(dir, 'package.json');
}

export const version: string = (JSON.parse(readFileSync(findPackageJson(), 'utf8')) as { version: string }).version;
