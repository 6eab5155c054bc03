import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The directory `bench:backtest --data` keeps its generated history in, so that later runs reuse it. Its manifest
 * is written once the history is complete; a started mark is written before anything else and taken away with the
 * manifest. So a directory with the mark and no manifest holds an interrupted history of ours, which is removed and
 * made again; one with files and neither is someone else's, and refused.
 */
export interface HistoryDir<M> {
  /** The finished history's manifest, or null when one must be made (the mark is then in place). */
  kept: M | null;
  /** Whether an interrupted history was found and removed. */
  cleared: boolean;
  /** Records the history as complete. */
  finish(manifest: M): void;
}

const MANIFEST = 'bench-history.json';
const STARTED = 'bench-history.started';

export function openHistoryDir<M>(dir: string): HistoryDir<M> {
  mkdirSync(dir, { recursive: true });
  const manifestFile = join(dir, MANIFEST);
  const startedFile = join(dir, STARTED);
  const kept = existsSync(manifestFile) ? (JSON.parse(readFileSync(manifestFile, 'utf8')) as M) : null;
  const cleared = !kept && existsSync(startedFile);
  if (cleared) for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
  if (!kept && readdirSync(dir).length > 0) throw new Error(`${dir} is not empty and holds no finished history: give an empty or new --data`);
  if (!kept) writeFileSync(startedFile, `${new Date().toISOString()}\n`);
  return {
    kept,
    cleared,
    finish(manifest) {
      writeFileSync(manifestFile, JSON.stringify(manifest));
      rmSync(startedFile);
    },
  };
}
