// The agent travels to the NAT VM inside instance metadata (no bucket, no registry, no internet needed at boot):
// gzip + base64, split into values under GCE's 256 KB per-value limit, with a checksum the startup script verifies.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { findPackageRoot } from '../common/version.js';
import { ProvisionError } from './gcp/call.js';
import { AGENT_BUNDLE_FILE, METADATA } from '../common/protocol.js';

export const MAX_METADATA_VALUE = 256 * 1024;
export const MAX_METADATA_TOTAL = 512 * 1024;
/** Under the per-value limit with room to spare. */
export const CHUNK_SIZE = 250 * 1024;

/** Finds a repository file from both provision/*.ts (tests) and dist/provision/*.js (the CLI). */
export function repoFile(relative: string): string {
  const candidate = path.join(findPackageRoot(fileURLToPath(import.meta.url)), relative);
  if (existsSync(candidate)) return candidate;
  throw new ProvisionError(`cannot find ${relative} in the natgw installation (${candidate})`);
}

let built: Promise<Buffer> | undefined;

/**
 * The agent as the NAT VM runs it. In a source checkout it is bundled from agent/entry.ts (so it is never stale against
 * the code under test); an installed natgw ships it prebuilt by `npm run build` and needs neither the source nor esbuild.
 */
export function buildAgentBundle(): Promise<Buffer> {
  built ??= (async () => {
    const source = fileURLToPath(new URL('../agent/entry.ts', import.meta.url));
    const sourceRoot = path.dirname(path.dirname(source));
    if (existsSync(source) && existsSync(path.join(sourceRoot, 'scripts/agent-bundle.mjs'))) {
      const script: { bundleAgent(options: { repo: string }): Promise<Buffer> } = await import(
        pathToFileURL(path.join(sourceRoot, 'scripts/agent-bundle.mjs')).href
      );
      try {
        return await script.bundleAgent({ repo: sourceRoot });
      } catch (error) {
        throw new ProvisionError(`cannot bundle the agent from ${source}: ${(error as Error).message}`);
      }
    }
    return readFileSync(repoFile(AGENT_BUNDLE_FILE));
  })();
  built.catch(() => {
    built = undefined;
  });
  return built;
}

export async function loadAgentBundle(file: string | undefined): Promise<Buffer> {
  if (file === undefined) return buildAgentBundle();
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ProvisionError(`--agent-bundle: cannot read ${file}: ${(error as Error).message}`);
  }
}

export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** The metadata values that carry the bundle: natgw-agent-0…N, its sha256 and version. */
export function bundleMetadata(bundle: Buffer, version: string): Record<string, string> {
  const encoded = gzipSync(bundle, { level: 9 }).toString('base64');
  const items: Record<string, string> = {};
  for (let index = 0, offset = 0; offset < encoded.length; index++, offset += CHUNK_SIZE)
    items[`${METADATA.bundleChunkPrefix}${index}`] = encoded.slice(offset, offset + CHUNK_SIZE);
  items[METADATA.bundleChecksum] = sha256(bundle);
  items[METADATA.bundleVersion] = version;
  return items;
}

export function startupScript(): string {
  return readFileSync(repoFile('startup-scripts/natgw-startup.sh'), 'utf8');
}

/** GCE's limits, checked here so an oversized bundle fails before any API call rather than at instance insert. */
export function checkMetadataBudget(metadata: Record<string, string>): void {
  let total = 0;
  for (const [key, value] of Object.entries(metadata)) {
    const size = Buffer.byteLength(value);
    if (size > MAX_METADATA_VALUE)
      throw new ProvisionError(`metadata value ${key} is ${size} bytes; GCE allows ${MAX_METADATA_VALUE} per value`);
    total += size + Buffer.byteLength(key);
  }
  if (total >= MAX_METADATA_TOTAL) {
    throw new ProvisionError(
      `instance metadata would be ${total} bytes; GCE allows ${MAX_METADATA_TOTAL} in total. The agent bundle is too large (trim its dependencies).`,
    );
  }
}
