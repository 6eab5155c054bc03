import { pino, type Logger } from 'pino';
import { build as prettyStream } from 'pino-pretty';

export type { Logger };

export type LogFormat = 'auto' | 'json' | 'pretty';

/** `auto` is readable lines for a person at a terminal, JSON lines when stdout is piped or in a container. */
export const isPretty = (format: LogFormat): boolean => format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);

/** Structured logs on stdout, one record per line, `msg` in English: JSON for machines, pino-pretty for people. */
export function createLogger(level: string, format: LogFormat = 'json', name = 'qingjian'): Logger {
  const options = { name, level, base: { pid: process.pid } };
  if (!isPretty(format)) return pino(options);
  // Synchronous, in this thread: a transport's worker thread would drop the last lines of a process that exits.
  return pino(options, prettyStream({ sync: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,name', singleLine: true }));
}
