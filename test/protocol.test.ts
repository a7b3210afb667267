// common/protocol.ts is the one place the agent, the provisioner and the lab agree on ports, NFLOG groups, metadata
// names and the agent's files. The startup script (bash) keeps its own literals: this checks them against it, and
// that no TypeScript file spells a protocol number out instead of importing it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { UPGRADE_EXIT_CODE } from '../agent/upgrade.js';
import { AGENT_PATHS, AGENT_PORT, METADATA, NFLOG_GROUP, SYNC_PORT } from '../common/protocol.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const script = readFileSync(path.join(REPO, 'startup-scripts/natgw-startup.sh'), 'utf8');

function readonlyValue(name: string): string | undefined {
  return new RegExp(`^readonly ${name}="?([^"\\n]*)"?$`, 'm').exec(script)?.[1];
}

t.test('the startup script names the same files, metadata and exit code as the agent', async (t) => {
  t.equal(readonlyValue('SYSCTL_CONF'), `/${AGENT_PATHS.sysctlConf}`, 'SYSCTL_CONF');
  t.equal(readonlyValue('AGENT_SYSCTL_FILE'), `/${AGENT_PATHS.stagedSysctls}`, 'AGENT_SYSCTL_FILE');
  t.equal(readonlyValue('UPGRADE_EXIT_CODE'), String(UPGRADE_EXIT_CODE), 'UPGRADE_EXIT_CODE');
  t.match(script, `metadata_get "${METADATA.bundleChunkPrefix}\${index}"`, 'the bundle chunks');
  t.match(script, `metadata_value ${METADATA.bundleChecksum})`, 'the bundle checksum');
  // systemd's StateDirectory= and RuntimeDirectory= are /var/lib/NAME and /run/NAME.
  const stateDirectory = /^StateDirectory=(\S+)$/m.exec(script)?.[1];
  const runtimeDirectory = /^RuntimeDirectory=(\S+)$/m.exec(script)?.[1];
  for (const file of [AGENT_PATHS.portBlockState, AGENT_PATHS.stagedSysctls])
    t.ok(file.startsWith(`var/lib/${stateDirectory}/`), `${file} is in the unit's StateDirectory`);
  for (const file of [AGENT_PATHS.nftReference, AGENT_PATHS.conntrackdDir])
    t.ok(file.startsWith(`run/${runtimeDirectory}/`), `${file} is in the unit's RuntimeDirectory`);
});

const SOURCE_DIRS = ['agent', 'bench', 'cli', 'common', 'cost', 'fallback', 'lab', 'provision'];

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(REPO, dir)).flatMap((entry) => {
    const relative = path.join(dir, entry);
    if (statSync(path.join(REPO, relative)).isDirectory()) return sourceFiles(relative);
    return entry.endsWith('.ts') && !entry.endsWith('.d.ts') ? [relative] : [];
  });
}

/** Code only: comments may name a port or a group for the reader. */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

t.test('ports and NFLOG groups are written once, in common/protocol.ts', async (t) => {
  const numbers = [SYNC_PORT, AGENT_PORT, ...Object.values(NFLOG_GROUP)];
  const pattern = new RegExp(`(?<![\\d.])(${numbers.join('|')})(?![\\d.])`);
  const offenders = SOURCE_DIRS.flatMap(sourceFiles)
    .filter((file) => file !== path.join('common', 'protocol.ts'))
    .flatMap((file) =>
      withoutComments(readFileSync(path.join(REPO, file), 'utf8'))
        .split('\n')
        .filter((line) => pattern.test(line))
        .map((line) => `${file}: ${line.trim()}`),
    );
  t.same(offenders, [], 'import SYNC_PORT, AGENT_PORT or NFLOG_GROUP from common/protocol.ts instead');
});
