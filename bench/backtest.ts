/**
 * `npm run bench:backtest`: how long a backtest of each rule takes over a large
 * history (5,000,000 events by default), as `qingjian rules backtest` runs it:
 * the embedded engine in this process, no service. Generating that history
 * takes minutes, so it can be kept and reused:
 *
 *   npm run bench:backtest -- --data /var/tmp/history-5m          # generates into the directory once, then reuses it
 *   npm run bench:backtest -- --events 300000 --rules no-plan      # a quick run in a temporary directory
 *
 * Flags (or environment): --events BENCH_EVENTS (default 5,000,000),
 * --companies BENCH_COMPANIES_PER_REGION (default events / 50, as bench:rules),
 * --days BENCH_HISTORY_DAYS (365), --seed BENCH_SEED (1), --data DIR (keep the
 * history there, or reuse the one it holds: as it was made when no setting is
 * given, refused when one given differs), --rules a,b (default: every
 * rule), --slice-rows N (the backtest's slice size, default its own), --cpu-prof FILE (a CPU profile of the backtests, for
 * bench/profile-summary.ts). Prints a Markdown table and writes
 * bench/results/backtest.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.js';
import { createWorld } from '../src/demo/index.js';
import { limitHeapGrowth } from '../src/heap.js';
import { backtest } from '../src/rules/backtest.js';
import { loadRuleSet } from '../src/rules/load.js';
import { createStorage, migrate, type Storage } from '../src/storage/index.js';
import { openHistoryDir } from './history-dir.js';
import { historySettings, loadHistory, type History } from './history-load.js';
import { allocator, sampleRss, startCpuProfile } from './profilers.js';

const TARGET = { floorMs: 10_000, goalMs: 5_000 };

const { values: flags } = parseArgs({
  options: {
    events: { type: 'string' }, companies: { type: 'string' }, days: { type: 'string' }, seed: { type: 'string' },
    data: { type: 'string' }, rules: { type: 'string' }, 'slice-rows': { type: 'string' }, 'cpu-prof': { type: 'string' },
  },
});
const wanted = historySettings(flags);
/** Whether any setting of the history was given: a kept history is reused as it was made when none was. */
const historyGiven = [flags.events, flags.companies, flags.days, flags.seed].some((v) => v !== undefined)
  || ['BENCH_EVENTS', 'BENCH_COMPANIES_PER_REGION', 'BENCH_HISTORY_DAYS', 'BENCH_SEED'].some((name) => Boolean(process.env[name]));
const sliceRows = flags['slice-rows'] === undefined ? undefined : Number(flags['slice-rows']);
for (const [name, value] of Object.entries({ ...wanted, ...(sliceRows === undefined ? {} : { 'slice-rows': sliceRows }) })) {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`bad setting ${name}: expected a positive whole number`);
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const progress = (text: string) => console.log(`· ${new Date().toISOString().slice(11, 19)} ${text}`);

/** What a kept directory's history was made with: reused only for the same settings. */
interface Manifest {
  wanted: typeof wanted;
  history: History;
}

async function main() {
  const dataDir = flags.data ?? mkdtempSync(join(tmpdir(), 'qingjian-bench-backtest-'));
  const historyDir = openHistoryDir<Manifest>(dataDir);
  const { kept } = historyDir;
  if (historyDir.cleared) progress(`${dataDir} held a history that was interrupted: removed`);
  if (kept && historyGiven && JSON.stringify(kept.wanted) !== JSON.stringify(wanted)) {
    throw new Error(`${dataDir} holds a history made with ${JSON.stringify(kept.wanted)}, not ${JSON.stringify(wanted)}: give another --data`);
  }
  const config = loadConfig({ ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
  limitHeapGrowth(config.HEAP_GROWTH_PERCENT); // as `qingjian rules backtest` does
  const storage = createStorage(config);
  try {
    await migrate(storage);
    let history = kept?.history;
    if (history) progress(`reusing the history in ${dataDir}: ${fmt(history.events)} events (${fmt(history.rows)} rows)`);
    else {
      progress(`generating ${fmt(wanted.events)} events of history into ${dataDir}`);
      const world = createWorld({ seed: wanted.seed, enterprisesPerRegion: wanted.perRegion });
      history = await loadHistory(storage, world, { ...wanted, liveWanted: 0, dir: dataDir });
      historyDir.finish({ wanted, history });
      progress(`history: ${fmt(history.events)} events (${fmt(history.rows)} rows) in ${secs(history.generateAndInsertMs)}, merged in ${secs(history.optimizeMs)}`);
    }
    await measure(storage, history, config.RULES_DIR, kept?.wanted ?? wanted);
  } finally {
    await storage.close();
    if (!flags.data) rmSync(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 500 });
  }
}

async function measure(storage: Storage, history: History, rulesDir: string, settings: typeof wanted) {
  const ruleSet = await loadRuleSet(rulesDir);
  const ids = flags.rules ? flags.rules.split(',').map((s) => s.trim()) : ruleSet.rules.map((r) => r.spec.id).sort();
  const from = new Date(history.from);
  const to = new Date(history.to);
  const rss = sampleRss();
  const profiler = flags['cpu-prof'] ? await startCpuProfile() : null;
  const results = [];
  for (const ruleId of ids) {
    const t = performance.now();
    const report = await backtest(storage, { current: ruleSet, ruleId, from, to, sliceRows });
    const ms = performance.now() - t;
    progress(`${ruleId}: ${secs(ms)}, ${fmt(report.events_read)} events of ${fmt(report.companies)} companies, ${fmt(report.alerts)} alerts`);
    results.push({ rule: ruleId, seconds: Math.round(ms / 100) / 10, companies: report.companies, eventsRead: report.events_read, alerts: report.alerts, byVariant: report.by_variant });
  }
  if (profiler) writeFileSync(flags['cpu-prof']!, JSON.stringify(await profiler()));
  const peakRss = rss.stop();

  const slowest = results.reduce((a, b) => (a.seconds >= b.seconds ? a : b));
  const verdict = slowest.seconds * 1000 <= TARGET.goalMs ? 'goal met' : slowest.seconds * 1000 <= TARGET.floorMs ? 'floor met' : 'missed';
  console.log(`\nBacktests over ${fmt(history.events)} events (${fmt(history.rows)} rows), ${new Date(history.from).toISOString().slice(0, 10)} to ` +
    `${new Date(history.to).toISOString().slice(0, 10)}, embedded engine in this process, one rule at a time.\n`);
  console.log('| rule | time | companies | events read | alerts |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const r of results) console.log(`| ${r.rule} | ${r.seconds} s | ${fmt(r.companies)} | ${fmt(r.eventsRead)} | ${fmt(r.alerts)} |`);
  console.log(`\nSlowest: ${slowest.rule}, ${slowest.seconds} s (floor ${secs(TARGET.floorMs)}, goal ${secs(TARGET.goalMs)}: ${verdict}). Peak RSS ${fmt(peakRss / 1024 / 1024)} MiB (${allocator()}).`);

  const out = join(import.meta.dirname, 'results', 'backtest.json');
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(out, `${JSON.stringify({
    at: new Date().toISOString(), history: { ...settings, events: history.events, rows: history.rows, from: from.toISOString(), to: to.toISOString() },
    backtests: results, peakRssMiB: Math.round(peakRss / 1024 / 1024), allocator: allocator(),
  }, null, 2)}\n`);
  console.log(`written to ${out}`);
}

await main();
