import { pino, destination, stdTimeFunctions, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout: journald on the VM keeps them, and they parse without a log shipper's help. */
export function createLogger(): Logger {
  return pino(
    { base: { component: 'natgw-agent' }, timestamp: stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
    destination({ dest: 1, sync: true }),
  );
}
