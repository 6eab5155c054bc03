import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stdout, one line per record, `msg` in English. */
export function createLogger(level: string, name = 'qingjian'): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}
