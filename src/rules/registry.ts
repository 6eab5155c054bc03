import { watch, type FSWatcher } from 'node:fs';
import { installHolidayCalendar } from '../calendar/index.js';
import type { Logger } from '../log.js';
import { loadRuleSet, RuleSetError, type RuleSet } from './load.js';
import { runRuleTests } from './testing.js';

/**
 * The live rule set. A reload validates the files and runs their tests
 * first; only a set that passes replaces the current one, in one assignment,
 * so an evaluation never sees half of a change. The set's holiday calendar is
 * installed in the same step, so the calendar in force is always the live
 * set's. A failed reload keeps the last good set and calendar and reports why
 * (logs and `status()`).
 */
export interface RuleRegistry {
  current(): RuleSet;
  reload(): Promise<ReloadOutcome>;
  status(): RegistryStatus;
  close(): void;
}

export type ReloadOutcome = { ok: true; digest: string; changed: boolean } | { ok: false; error: string };

export interface RegistryStatus {
  digest: string;
  rules: Array<{ id: string; version: number; mode: string }>;
  /** Years whose days off an operator's file decides (the others: chinese-days). */
  calendar: Array<{ year: number; file: string; source: string; provisional: boolean }>;
  loaded_at: string;
  last_error: { at: string; message: string } | null;
}

/** Loads a rule set and runs its tests; throws with every problem and failure. */
export async function loadTestedRuleSet(dir: string): Promise<RuleSet> {
  const set = await loadRuleSet(dir);
  const report = await runRuleTests(set);
  const failures = report.results.filter((r) => r.failures.length > 0);
  if (report.problems.length > 0) throw new RuleSetError(report.problems);
  if (failures.length > 0) {
    throw new Error(`rule tests failed:\n${failures.map((f) => `${f.file}: ${f.name}\n  ${f.failures.join('\n  ')}`).join('\n')}`);
  }
  return set;
}

/** Puts a set's calendar in force; the caller makes the set live in the same synchronous step. */
function activate(set: RuleSet): RuleSet {
  installHolidayCalendar(set.calendar);
  return set;
}

export async function createRuleRegistry(dir: string, log: Logger, options: { watch?: boolean } = {}): Promise<RuleRegistry> {
  let set = activate(await loadTestedRuleSet(dir));
  let loadedAt = new Date();
  let lastError: RegistryStatus['last_error'] = null;
  let reloading: Promise<ReloadOutcome> | null = null;

  async function reload(): Promise<ReloadOutcome> {
    try {
      const next = await loadTestedRuleSet(dir);
      const changed = next.digest !== set.digest;
      if (changed) {
        set = activate(next);
        loadedAt = new Date();
        log.info({ digest: next.digest, rules: next.rules.map((r) => `${r.spec.id}@${r.spec.version}`), calendar: [...next.calendar.years.keys()] }, 'rule set reloaded');
      }
      lastError = null;
      return { ok: true, digest: next.digest, changed };
    } catch (err) {
      const message = (err as Error).message;
      lastError = { at: new Date().toISOString(), message };
      log.error({ err: message, kept: set.digest }, 'rule reload failed; keeping the last good rule set');
      return { ok: false, error: message };
    }
  }

  // Editors write a file in several steps; wait for the burst to end, and never run two reloads at once.
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      reloading ??= reload().finally(() => (reloading = null));
    }, 200);
  };
  const watcher: FSWatcher | null = options.watch ? watch(dir, { recursive: true }, schedule) : null;
  watcher?.on('error', (err) => log.warn({ err: err.message }, 'rule directory watch failed'));

  return {
    current: () => set,
    reload: () => (reloading ??= reload().finally(() => (reloading = null))),
    status: () => ({
      digest: set.digest,
      rules: set.rules.map((r) => ({ id: r.spec.id, version: r.spec.version, mode: r.spec.mode })),
      calendar: [...set.calendar.years].map(([year, y]) => ({ year, ...y })),
      loaded_at: loadedAt.toISOString(),
      last_error: lastError,
    }),
    close() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
