// Rewrites every `<!-- natgw CMD --help -->` block in README.md and docs/*.md with the built CLI's current --help
// output (`npm run build` first). test/docs-help.test.ts fails when a block is out of date.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const docs = [
  'README.md',
  ...readdirSync(path.join(repo, 'docs'))
    .filter((file) => file.endsWith('.md'))
    .map((file) => `docs/${file}`),
];
for (const doc of docs) {
  const file = path.join(repo, doc);
  const text = readFileSync(file, 'utf8');
  const updated = text.replace(/<!-- natgw (agent|provision|cost|lab) --help -->\n```text\n[\s\S]*?```/g, (_block, command) => {
    const help = execFileSync(process.execPath, [path.join(repo, 'bin/natgw.js'), command, '--help'], { encoding: 'utf8' });
    return `<!-- natgw ${command} --help -->\n\`\`\`text\n${help}\`\`\``;
  });
  if (updated !== text) {
    writeFileSync(file, updated);
    process.stdout.write(`updated ${doc}\n`);
  }
}
