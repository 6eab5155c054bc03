import { Presets, SingleBar } from 'cli-progress';

/** Long steps report how far they are: a bar with counts and time left for a person at a terminal. */
export interface Progress {
  advance(by: number): void;
  done(): void;
}

const SILENT: Progress = { advance() {}, done() {} };

/**
 * A bar on stderr when `shown` (a person at a terminal, see `isPretty`); nothing otherwise, where the step's log
 * lines already say what happened and a bar's carriage returns would only garble a file.
 */
export function progress(label: string, total: number, shown: boolean): Progress {
  if (!shown || total <= 0 || !process.stderr.isTTY) return SILENT;
  const bar = new SingleBar({
    format: `${label} [{bar}] {value}/{total} · {percentage}% · 剩余 {eta_formatted}`,
    stream: process.stderr, hideCursor: true, clearOnComplete: false, etaBuffer: 20,
  }, Presets.shades_classic);
  bar.start(total, 0);
  return {
    advance: (by) => bar.increment(by),
    done: () => bar.stop(),
  };
}
