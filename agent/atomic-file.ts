// State that must survive a crash at any instant: written to a temporary file, flushed to disk, renamed over the old
// one, and the directory flushed too, so a reader finds the old file or the new one, never a part of either.
import { open, rename } from 'node:fs/promises';
import path from 'node:path';

/** One write at a time per file: two writers of one temporary file would interleave their bytes. */
const queues = new Map<string, Promise<void>>();

export function writeFileAtomic(file: string, data: string): Promise<void> {
  const previous = queues.get(file) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => write(file, data));
  queues.set(file, next);
  void next.finally(() => {
    if (queues.get(file) === next) queues.delete(file);
  });
  return next;
}

async function write(file: string, data: string): Promise<void> {
  // A fixed name: a writer killed mid-write leaves one temporary file, which the next write truncates and replaces.
  const temporary = `${file}.tmp`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
  // The rename itself is only durable once the directory entry is on disk.
  const directory = await open(path.dirname(file), 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
