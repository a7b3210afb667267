// A CLI entry point run in-process writes to process.stdout; a test reads that text (tap's own output is not in it:
// assert only after the capture has ended).
export async function captureStdout<T>(run: () => Promise<T>): Promise<{ result: T; stdout: string }> {
  let stdout = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    return { result: await run(), stdout };
  } finally {
    process.stdout.write = write;
  }
}
