// Bundles the agent (agent/entry.ts) into the single ESM file the NAT VM runs. `npm run build` writes it to
// dist/agent/natgw-agent.mjs so an installed natgw needs neither the TypeScript source nor esbuild; the provisioner
// calls bundleAgent() itself only in a source checkout.
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PREBUILT_BUNDLE = 'dist/agent/natgw-agent.mjs';

export async function bundleAgent({ repo = REPO } = {}) {
  const { version } = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [path.join(repo, 'agent/entry.ts')],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: true,
    write: false,
    legalComments: 'none',
    define: { __NATGW_VERSION__: JSON.stringify(version) },
    // CommonJS dependencies call require(); an ESM bundle has none unless we make one.
    banner: { js: "import{createRequire as __natgwCreateRequire}from'node:module';const require=__natgwCreateRequire(import.meta.url);" },
    // The provisioner's heavy dependencies must never ride along to the VM.
    external: ['@google-cloud/compute', 'google-auth-library', 'esbuild'],
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error('esbuild produced no agent bundle');
  const bundle = Buffer.from(output.contents);
  if (/@google-cloud\/compute|google-auth-library/.test(bundle.toString('latin1'))) {
    throw new Error(
      'the agent bundle references @google-cloud/compute or google-auth-library; the agent must not import provisioning code',
    );
  }
  return bundle;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const bundle = await bundleAgent();
  const file = path.join(REPO, PREBUILT_BUNDLE);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bundle);
  process.stdout.write(`agent bundle: ${PREBUILT_BUNDLE} (${bundle.length} bytes)\n`);
}
