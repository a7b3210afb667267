// Progress of long operations: a live line with elapsed time on a terminal, plain start/finish lines otherwise
// (logs and CI keep every line; a terminal keeps one).
export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface Step {
  update(detail: string): void;
  done(summary?: string): void;
  fail(): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

export class Progress {
  constructor(
    private readonly out: Output,
    private readonly now: () => number = Date.now,
  ) {}

  line(text: string): void {
    this.out.write(`${text}\n`);
  }

  step(label: string): Step {
    const started = this.now();
    let detail = '';
    if (this.out.isTTY !== true) {
      this.out.write(`${label} …\n`);
      let lastDetail = '';
      return {
        update: (text) => {
          if (text !== lastDetail) this.out.write(`  ${label}: ${text} (${seconds(this.now() - started)})\n`);
          lastDetail = text;
        },
        done: (summary) =>
          void this.out.write(`${label}: done${summary === undefined ? '' : `, ${summary}`} (${seconds(this.now() - started)})\n`),
        fail: () => void this.out.write(`${label}: failed (${seconds(this.now() - started)})\n`),
      };
    }
    let frame = 0;
    const render = () =>
      this.out.write(
        `\r\x1b[K${FRAMES[frame++ % FRAMES.length]} ${label} (${seconds(this.now() - started)})${detail === '' ? '' : ` ${detail}`}`,
      );
    render();
    const timer = setInterval(render, 100);
    timer.unref();
    const finish = (mark: string, text: string) => {
      clearInterval(timer);
      this.out.write(`\r\x1b[K${mark} ${label}: ${text} (${seconds(this.now() - started)})\n`);
    };
    return {
      update: (text) => {
        detail = text;
      },
      done: (summary) => finish('✓', summary ?? 'done'),
      fail: () => finish('✗', 'failed'),
    };
  }

  /** Runs one step; the step fails visibly when `fn` throws. */
  async run<T>(label: string, fn: (step: Step) => Promise<T>, summary?: (value: T) => string | undefined): Promise<T> {
    const step = this.step(label);
    try {
      const value = await fn(step);
      step.done(summary?.(value));
      return value;
    } catch (error) {
      step.fail();
      throw error;
    }
  }
}
