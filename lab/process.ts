// Processes the lab starts inside its namespaces, the metadata server's control socket, and namespace removal.
import { execFileSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { waitUntil } from '../common/wait.js';

export class LabProcess {
  private output = '';
  readonly exited: Promise<number | null>;

  constructor(
    readonly child: ChildProcess,
    readonly label: string,
    readonly namespace: string,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal === null ? null : 128))));
  }

  get text(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<void> {
    await waitUntil(
      `${this.label} prints ${pattern}`,
      () => {
        if (pattern.test(this.output)) return true;
        if (!this.running) throw new Error(`${this.label} exited before printing ${pattern}: ${this.output.slice(-2000)}`);
        return false;
      },
      { timeoutMs, everyMs: 50, detail: () => `its output ends: ${this.output.slice(-2000)}` },
    );
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<number | null> {
    if (this.running) {
      this.child.kill(signal);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exited;
  }
}

export function controlRequest(socketPath: string, method: string, urlPath: string, body?: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request = http.request(
      {
        socketPath,
        method,
        path: urlPath,
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () =>
          (response.statusCode ?? 500) < 300
            ? resolve(text === '' ? undefined : JSON.parse(text))
            : reject(new Error(`${method} ${urlPath}: ${response.statusCode} ${text}`)),
        );
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

/** Kills whatever still runs inside (a namespace outlives deletion while a process holds it), then deletes it. */
export function removeNamespace(namespace: string): void {
  try {
    const pids = execFileSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    execFileSync('ip', ['netns', 'del', namespace], { stdio: 'ignore' });
  } catch {
    // already gone
  }
}
