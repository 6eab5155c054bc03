/**
 * `npm run bench:rules`: how soon an alert is stored after the event behind it
 * was accepted, under a constant live load on top of a year of history, and
 * how long a backtest over that history takes, on this machine with the
 * embedded engine. A child process sets up the history in the data directory
 * and stops; then the service runs here on that directory (as `qingjian
 * start` would on a kept one); the live load comes from a child process
 * (live-client.ts). Prints Markdown tables and writes bench/results/rules.json.
 *
 *   npm run bench:rules                                   # ≥ 5M events of history, 60 s at 1,000/s and 60 s at 5,000/s
 *   npm run bench:rules -- --events 200000 --seconds 10   # a quick run
 *
 * Flags (or environment): --events BENCH_EVENTS (history events, default 5,000,000),
 * --companies BENCH_COMPANIES_PER_REGION (default events / 50, so a company has
 * ~17 events a year), --days BENCH_HISTORY_DAYS (365), --rates BENCH_RATES
 * (events/s per phase, "1000,5000"), --seconds BENCH_PHASE_SECONDS (per phase,
 * one value or one per rate), --tick-ms BENCH_TICK_MS (10: a request every
 * 10 ms), --timings BENCH_TIMINGS=1 (service debug log to a file, summarised:
 * insert and evaluation times), --keep (keep the data directory), --cold (start
 * the live phases as soon as the service is up, while it warms its evaluation
 * memory in the background, instead of after), --cpu-prof FILE (a CPU
 * profile of the service's process during the live phases, for
 * bench/profile-summary.ts), --alloc-prof FILE (where the live phases allocate,
 * garbage included: V8's sampling heap profile, .heapprofile; slows the run). Any variable
 * of the README's Configuration table can be set for a run.
 */
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createAlertMemory, createAlertStore, reconcile, type AlertStore } from '../src/alerts/index.js';
import { DAY, HOUR, MINUTE } from '../src/calendar/index.js';
import { loadConfig, type Config } from '../src/config/index.js';
import { createRandom, createWorld, type World } from '../src/demo/index.js';
import { createLogger } from '../src/log.js';
import { backtest, type BacktestReport } from '../src/rules/backtest.js';
import { readCompanies, readEvents } from '../src/rules/context.js';
import { boundAt } from '../src/rules/offsets.js';
import type { Offset } from '../src/rules/schema.js';
import { contextNeeds, evaluateCompany, mergeNeeds } from '../src/rules/engine.js';
import { companyOf } from '../src/rules/company.js';
import { createLocks } from '../src/redis/lock.js';
import { loadRuleSet, type RuleSet } from '../src/rules/load.js';
import { startService, type Service } from '../src/service.js';
import type { Storage } from '../src/storage/index.js';
import { historySettings, loadHistory, type History } from './history-load.js';
import { allocator, sampleRss, startAllocationProfile, startCpuProfile } from './profilers.js';
import { seedHistoryAlerts } from './seed-alerts.js';
import { recordStorageCalls, summarizeCalls, type CallSummary } from './storage-timings.js';
import { startCpuSplit, type CpuSplit } from './cpu-split.js';
import { queueWatch, type Counts } from './queue-watch.js';
import type { FromClient, LivePhasePlan, LivePhaseReport, ToClient } from './live-client.js';
import './token.js';

const TARGETS = { p99Ms: 500, p99AtRate: 5_000, backtestMs: 10_000 };
/**
 * When a decision is due after its anchor, for the alerts whose rule waits on purpose (rules/*.yaml as shipped): for
 * late-synced events, an exit scan, a green-channel entry or a filing. An alert whose live evidence arrived before
 * then was decided when the wait ended: its latency is that wait, not the pipeline's, and it is not measured.
 */
function decisionDue(a: { rule_id: string; variant: string; anchor: number }): number {
  const after = (offset: Offset, latenessMinutes = 0) => boundAt(a.anchor, offset, 'to') + latenessMinutes * MINUTE;
  switch (a.rule_id) {
    case 'no-plan': return a.variant === 'green_channel_late' ? after({ minutes: 30 }, 5) : a.anchor;
    case 'entry-without-scan': return a.variant === 'complaint' ? a.anchor : after({ hours: 2 }, 60);
    case 'exit-without-scan': return after({ hours: 12 }, 60);
    case 'quiet-period': return a.variant === 'unfiled' ? after({ working_days: 3 }) : a.anchor;
    default: return a.anchor;
  }
}
const DEFERRED_DESCRIPTION = 'evidence that arrived before the decision was due: within 35 minutes of an entry for no-plan/green_channel_late, '
  + '3 hours of an on-site record for entry-without-scan (not its complaint variant), 13 hours of an entry for exit-without-scan, '
  + '3 working days of a visit for quiet-period/unfiled';

// ---------------------------------------------------------------- settings

const { values: flags } = parseArgs({
  options: {
    events: { type: 'string' }, companies: { type: 'string' }, days: { type: 'string' }, rates: { type: 'string' },
    seconds: { type: 'string' }, 'tick-ms': { type: 'string' }, seed: { type: 'string' },
    timings: { type: 'boolean' }, keep: { type: 'boolean' }, 'skip-alert-seed': { type: 'boolean' }, cold: { type: 'boolean' },
    'cpu-prof': { type: 'string' }, 'alloc-prof': { type: 'string' },
  },
});
const setting = (flag: string | undefined, env: string | undefined, fallback: string) => flag ?? (env || fallback);
const list = (text: string) => text.split(',').map((s) => Number(s.trim()));
const historySize = historySettings(flags);
const settings = {
  historyEvents: historySize.events,
  perRegion: historySize.perRegion,
  historyDays: historySize.days,
  rates: list(setting(flags.rates, process.env.BENCH_RATES, '1000,5000')),
  seconds: list(setting(flags.seconds, process.env.BENCH_PHASE_SECONDS, '60')),
  tickMs: Number(setting(flags['tick-ms'], process.env.BENCH_TICK_MS, '10')),
  seed: historySize.seed,
  timings: flags.timings ?? ['1', 'true'].includes(process.env.BENCH_TIMINGS ?? ''),
  keep: flags.keep ?? false,
  warm: !(flags.cold ?? false),
  cpuProfile: flags['cpu-prof'] ?? null,
  allocationProfile: flags['alloc-prof'] ?? null,
  seedAlerts: !(flags['skip-alert-seed'] ?? ['1', 'true'].includes(process.env.BENCH_SKIP_ALERT_SEED ?? '')),
};
const phasePlans: LivePhasePlan[] = settings.rates.map((rate, i) => ({
  rate, seconds: settings.seconds[i] ?? settings.seconds.at(-1)!, tickMs: settings.tickMs,
}));
for (const [name, value] of Object.entries({ ...settings, rates: Math.min(...settings.rates), seconds: Math.min(...settings.seconds) })) {
  if (typeof value === 'number' && !(value > 0)) throw new Error(`bad setting ${name}: expected a positive number`);
}

// ---------------------------------------------------------------- helpers

const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const msText = (ms: number | null) => (ms === null ? '—' : ms >= 10_000 ? secs(ms) : `${fmt(ms)} ms`);
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const progress = (text: string) => console.log(`· ${new Date().toISOString().slice(11, 19)} ${text}`);

// After the history load the heap holds garbage; collect it before measuring RSS.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

// ---------------------------------------------------------------- live phases

interface PhaseResult {
  plan: LivePhasePlan;
  client: LivePhaseReport;
  backlogAtEnd: Counts;
  storeBacklogAtEnd: Counts;
  maxBacklog: number;
  drainMs: number | null;
  stored: number;
  /** performance.now() from the phase's start to its drain. */
  perfFrom: number;
  perfTo: number;
  /** The service's event loop (this process), phase and drain: how long a timer was late, p99 and max, in ms. */
  loopDelay: { p99Ms: number; maxMs: number };
  /** The machine's CPU-seconds over the phase and its drain, by whose they were. */
  cpu: CpuSplit;
}

async function runLivePhases(service: Service, history: History, redisPrefix: string, rss: ReturnType<typeof sampleRss>): Promise<PhaseResult[]> {
  const child = fork(join(import.meta.dirname, 'live-client.ts'), [service.url!, history.liveFile], {
    execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T extends FromClient['type']>(type: T) => new Promise<Extract<FromClient, { type: T }>>((resolve, reject) => {
    const onMessage = (m: FromClient) => {
      if (m.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m as Extract<FromClient, { type: T }>);
    };
    const onExit = (code: number) => reject(new Error(`live client exited ${code}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
  const send = (message: ToClient) => child.send(message);
  await next('ready');

  const queues = queueWatch(service.redisUrl, redisPrefix);
  const results: PhaseResult[] = [];
  for (const plan of phasePlans) {
    progress(`live phase: ${fmt(plan.rate)} events/s for ${plan.seconds} s`);
    const stopWatch = queues.watch();
    // Lock leases are renewed every 667 ms and lost past 2 s: a stall over 1.3 s costs a retried job.
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const sent = next('sent');
    const done = next('done');
    const perfFrom = performance.now();
    const cpu = startCpuSplit();
    send({ type: 'run', plan });
    const { at: sentAt } = await sent;
    const atEnd = await queues.counts();
    const { report } = await done;
    const drainedAt = await queues.untilDrained(30 * 60_000);
    const cpuSplit = cpu();
    const maxBacklog = Math.max(await stopWatch(), queues.backlog(atEnd));
    rss.peak();
    loop.disable();
    results.push({
      plan, client: report, backlogAtEnd: atEnd.evaluate, storeBacklogAtEnd: atEnd.store, maxBacklog,
      drainMs: drainedAt === null ? null : drainedAt - sentAt, stored: 0, perfFrom, perfTo: performance.now(),
      loopDelay: { p99Ms: Math.round(loop.percentile(99) / 1e6), maxMs: Math.round(loop.max / 1e6) }, cpu: cpuSplit,
    });
  }
  // Events stored per phase, by the time ingest accepted them.
  for (const [i, result] of results.entries()) {
    const [row] = await service.storage.query<{ n: string }>(
      `SELECT uniqExact(id) AS n FROM events
       WHERE received_at >= {from:DateTime64(3, 'UTC')} AND received_at < {to:DateTime64(3, 'UTC')}`,
      { from: new Date(result.client.startedAt), to: new Date(results[i + 1]?.client.startedAt ?? Date.now() + HOUR) });
    result.stored = Number(row?.n ?? 0);
  }
  send({ type: 'exit' });
  await queues.close();
  return results;
}

// ---------------------------------------------------------------- latency from stored data

interface AlertLatency {
  id: string;
  rule_id: string;
  variant: string;
  /** The instant the rule decided about (anchor_at): a rule that waits does so from here. */
  anchor: number;
  raised: number;
  /** Newest received_at among the alert's evidence events that arrived live (null: all evidence is history). */
  received: number | null;
  stored: number | null;
}

/**
 * Revision 1 of every alert raised since the live phases began (without FINAL:
 * later revisions would hide it), joined with its evidence events that arrived
 * live. Latency = raised_at - max(received_at) of those events.
 */
async function alertLatencies(storage: Storage, since: number): Promise<AlertLatency[]> {
  const rows = await storage.query<{
    id: string; rule_id: string; variant: string; anchor: string | number; raised: string | number; live: string | number; received: string | number; stored: string | number;
  }>(
    `SELECT a.id AS id, any(a.rule_id) AS rule_id, any(a.variant) AS variant,
            toUnixTimestamp64Milli(any(a.anchor_at)) AS anchor,
            toUnixTimestamp64Milli(any(a.raised_at)) AS raised,
            countIf(e.id != '') AS live,
            toUnixTimestamp64Milli(max(e.last_received_at)) AS received,
            toUnixTimestamp64Milli(argMax(e.first_stored_at, e.last_received_at)) AS stored
     FROM (
       SELECT id, rule_id, variant, anchor_at, first_raised_at AS raised_at,
              arrayJoin(arrayDistinct(arrayMap(x -> JSONExtractString(x, 'event_id'), JSONExtractArrayRaw(first_evidence)))) AS event_id
       FROM (SELECT id, any(rule_id) AS rule_id, any(variant) AS variant, any(anchor_at) AS anchor_at, min(raised_at) AS first_raised_at, any(evidence) AS first_evidence
             FROM alerts WHERE revision = 1 AND raised_at >= {since:DateTime64(3, 'UTC')} GROUP BY id)
     ) AS a
     LEFT JOIN (
       SELECT id, max(received_at) AS last_received_at, min(stored_at) AS first_stored_at
       FROM events WHERE received_at >= {since:DateTime64(3, 'UTC')} GROUP BY id
     ) AS e ON e.id = a.event_id
     GROUP BY a.id`,
    { since: new Date(since) },
  );
  return rows.map((r) => ({
    id: r.id, rule_id: r.rule_id, variant: r.variant, anchor: Number(r.anchor), raised: Number(r.raised),
    received: Number(r.live) > 0 ? Number(r.received) : null,
    stored: Number(r.live) > 0 ? Number(r.stored) : null,
  }));
}

const isDeferred = (a: AlertLatency) => a.received !== null && a.received < decisionDue(a);

interface Distribution {
  n: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

function distribution(values: number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0
    ? { n: 0, p50: null, p99: null, max: null }
    : { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1)! };
}

interface PhaseLatency {
  measured: Distribution;
  /** received → stored_at of that event (ingest + store worker), and stored_at → raised_at (evaluation). */
  storePart: Distribution;
  evaluatePart: Distribution;
  excluded: number;
  byRule: Record<string, number>;
  /** Of byRule, the alerts not measured (decided when their rule's wait ended). */
  deferredByRule: Record<string, number>;
}

function latencyByPhase(alerts: AlertLatency[], phases: PhaseResult[]): { phases: PhaseLatency[]; historyOnly: Record<string, number> } {
  const starts = phases.map((p) => p.client.startedAt);
  const buckets = phases.map(() => [] as AlertLatency[]);
  const historyOnly: Record<string, number> = {};
  for (const alert of alerts) {
    if (alert.received === null) {
      historyOnly[alert.rule_id] = (historyOnly[alert.rule_id] ?? 0) + 1;
      continue;
    }
    let phase = 0;
    while (phase + 1 < starts.length && alert.received >= starts[phase + 1]!) phase++;
    buckets[phase]!.push(alert);
  }
  return {
    historyOnly,
    phases: buckets.map((own) => {
      const measured = own.filter((a) => !isDeferred(a));
      const byRule: Record<string, number> = {};
      const deferredByRule: Record<string, number> = {};
      for (const a of own) {
        const key = a.variant ? `${a.rule_id}/${a.variant}` : a.rule_id;
        byRule[key] = (byRule[key] ?? 0) + 1;
        if (isDeferred(a)) deferredByRule[key] = (deferredByRule[key] ?? 0) + 1;
      }
      return {
        measured: distribution(measured.map((a) => a.raised - a.received!)),
        storePart: distribution(measured.map((a) => a.stored! - a.received!)),
        evaluatePart: distribution(measured.map((a) => a.raised - a.stored!)),
        excluded: own.length - measured.length,
        byRule,
        deferredByRule,
      };
    }),
  };
}

// ---------------------------------------------------------------- diagnostics

/**
 * What one evaluation chunk reads before it can decide, timed on its own:
 * companies, their events in the spans the rules need, their alerts — for
 * EVALUATE_CHUNK random companies with one new event each at `at`.
 */
async function probeContextRead(storage: Storage, alerts: AlertStore, rules: RuleSet, world: World, chunk: number, at: number) {
  const random = createRandom(7);
  const runs: Array<{ companiesMs: number; eventsMs: number; alertsMs: number; evaluateMs: number; rows: number; stored: number }> = [];
  for (let run = 0; run < 3; run++) {
    const ids = random.sample(world.enterprises, chunk).map((c) => c.enterprise_id);
    let t = performance.now();
    const companies = await readCompanies(storage, ids);
    const companiesMs = performance.now() - t;
    const spans = mergeNeeds(ids.flatMap((id) => contextNeeds(rules.rules, companies.get(id)?.region ?? '', { from: at, to: at })));
    t = performance.now();
    const events = await readEvents(storage, ids, spans);
    const eventsMs = performance.now() - t;
    t = performance.now();
    const stored = await alerts.forEnterprises(ids);
    const alertsMs = performance.now() - t;
    // The engine's own work for the chunk: evaluate every company and reconcile with its stored alerts.
    t = performance.now();
    const naming = { agencyName: (id: string) => id };
    for (const id of ids) {
      const company = companyOf(id, companies, events);
      const result = evaluateCompany(rules.rules, { company, events: events.get(id) ?? [], changed: { from: at, to: at }, now: Date.now(), naming });
      const own = new Map([...stored].filter(([, a]) => a.enterprise_id === id));
      reconcile(own, result.candidates, result.scopes, new Date(), 'probe');
    }
    const evaluateMs = performance.now() - t;
    runs.push({ companiesMs, eventsMs, alertsMs, evaluateMs, rows: [...events.values()].reduce((s, e) => s + e.length, 0), stored: stored.size });
  }
  const median = (key: keyof (typeof runs)[number]) => [...runs].sort((a, b) => a[key] - b[key])[1]![key];
  // Each region reads what its own rules need (rules/regions.yaml): the widest span per event type over the world's regions.
  const regions = [...new Set(world.enterprises.map((c) => c.region))];
  const spans = mergeNeeds(regions.flatMap((region) => contextNeeds(rules.rules, region, { from: at, to: at })));
  return {
    companies: chunk, companiesMs: median('companiesMs'), eventsMs: median('eventsMs'), alertsMs: median('alertsMs'), rows: median('rows'),
    evaluateMs: median('evaluateMs'), storedAlerts: median('stored'),
    spanDays: Object.fromEntries([...spans].map(([type, s]) => [type ?? 'any', Math.round((s.to - s.from) / DAY)])),
  };
}

/** From the service's debug log: insert batches and evaluation chunks per phase. */
function timingsFromLog(file: string, phases: PhaseResult[]) {
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const per = phases.map(() => ({ stored: [] as number[], storedRows: [] as number[], evaluated: [] as number[], companies: [] as number[], busy: 0, failed: 0, firstFailure: '' }));
  for (const line of lines) {
    const entry = JSON.parse(line) as { time: number; msg: string; ms?: number; rows?: number; companies?: number; busy?: number; err?: string };
    let phase = -1;
    while (phase + 1 < phases.length && entry.time >= phases[phase + 1]!.client.startedAt) phase++;
    if (phase >= 0 && entry.msg.includes('failed')) {
      per[phase]!.failed++;
      per[phase]!.firstFailure ||= `${entry.msg}: ${entry.err ?? ''}`;
    }
    if (phase < 0 || entry.ms === undefined) continue;
    if (entry.msg === 'stored batch') {
      per[phase]!.stored.push(entry.ms);
      per[phase]!.storedRows.push(entry.rows ?? 0);
    } else if (entry.msg === 'evaluated') {
      per[phase]!.evaluated.push(entry.ms);
      per[phase]!.companies.push(entry.companies ?? 0);
      per[phase]!.busy += entry.busy ?? 0;
    }
  }
  return per.map((p) => ({
    insertBatches: distribution(p.stored), rowsPerBatch: distribution(p.storedRows),
    evaluationChunks: distribution(p.evaluated), companiesPerChunk: distribution(p.companies),
    failedJobs: p.failed, firstFailure: p.firstFailure, companiesHandedBackBusy: p.busy,
  }));
}

// ---------------------------------------------------------------- main

async function main() {
  const setupDir = process.env.BENCH_RULES_SETUP_DIR;
  if (setupDir) return setUpInThisProcess(setupDir);
  const wallStarted = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'qingjian-bench-rules-'));
  try {
    const setup = await setUpInChild(dataDir);
    const logFile = settings.timings ? join(dataDir, 'service.log') : null;
    const log = logFile ? pino({ level: 'debug', name: 'qingjian' }, pino.destination({ dest: logFile, sync: false })) : createLogger('warn');
    const config = serviceConfig(dataDir);
    const service = await startService(config, { api: true, worker: true }, log);
    try {
      await run(service, config, setup, logFile, wallStarted);
    } finally {
      await service.stop();
    }
  } finally {
    if (settings.keep) console.log(`data kept in ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
}

const serviceConfig = (dataDir: string) => loadConfig({ ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' });

/** What the setup leaves in the data directory, and its figures. */
interface Setup {
  history: History;
  parts: string;
  seeded: (Awaited<ReturnType<typeof seedHistoryAlerts>> & { ms: number }) | null;
  peakRss: number;
}

/**
 * The history, its reference data and its alerts are set up by a service in a child process, which then stops; the
 * measured service starts on that data directory as `qingjian start` does on a kept one. So the peak RSS of the live
 * phases is the service's, not that plus what generating and inserting a year of history left in this process
 * (the setup's process peaks near 2.4 GiB, and glibc keeps much of what the engine freed).
 */
async function setUpInChild(dataDir: string): Promise<Setup> {
  const child = fork(import.meta.filename, process.argv.slice(2), {
    execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, BENCH_RULES_SETUP_DIR: dataDir },
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the setup process exited ${code}`);
  return JSON.parse(readFileSync(join(dataDir, 'setup.json'), 'utf8')) as Setup;
}

async function setUpInThisProcess(dataDir: string) {
  const config = serviceConfig(dataDir);
  const service = await startService(config, { api: true, worker: true }, createLogger('warn'));
  try {
    const rss = sampleRss();
    progress(`setup: a service on embedded ClickHouse in ${dataDir}, local Redis; generating the world`);
    const world = createWorld({ seed: settings.seed, enterprisesPerRegion: settings.perRegion });
    progress(`world: ${fmt(world.enterprises.length)} companies, ${world.agencies.length} agencies; generating and loading the history straight into storage`);
    const history = await loadHistory(service.storage, world, {
      seed: settings.seed, perRegion: settings.perRegion, events: settings.historyEvents, days: settings.historyDays, dir: dataDir,
      liveWanted: phasePlans.reduce((sum, p) => sum + Math.round(p.rate * p.seconds), 0),
      homes: { redisUrl: service.redisUrl, redisPrefix: config.REDIS_PREFIX },
    });
    const [parts] = await service.storage.query<{ parts: string }>(`SELECT count() AS parts FROM system.parts WHERE table = 'events' AND active`);
    progress(`history: ${fmt(history.events)} events (${fmt(history.rows)} rows) in ${secs(history.generateAndInsertMs)}, merged in ${secs(history.optimizeMs)} to ${parts?.parts} parts; ` +
      `${fmt(history.liveEvents)} live events kept for the phases`);
    let seeded: Setup['seeded'] = null;
    if (settings.seedAlerts) {
      progress('raising the history\'s alerts with the rule engine (setup: as if the history had been evaluated as it arrived)');
      const lockRedis = new Redis(service.redisUrl);
      const t = performance.now();
      const ids = world.enterprises.map((c) => c.enterprise_id);
      const alertStore = createAlertStore(service.storage, createLocks(lockRedis, config.REDIS_PREFIX), createAlertMemory(lockRedis, config.REDIS_PREFIX, 0));
      seeded = { ...(await seedHistoryAlerts(service.storage, alertStore, await loadRuleSet(config.RULES_DIR), ids, { from: history.from, to: Date.now() })), ms: performance.now() - t };
      lockRedis.disconnect();
      progress(`history alerts: ${fmt(seeded.alerts)} in ${secs(seeded.ms)} ${JSON.stringify(seeded.byRule)}`);
    }
    const setup: Setup = { history, parts: String(parts?.parts ?? '?'), seeded, peakRss: rss.stop() };
    writeFileSync(join(dataDir, 'setup.json'), JSON.stringify(setup));
  } finally {
    await service.stop();
  }
}

async function run(service: Service, config: Config, { history, seeded, parts, peakRss: setupPeakRss }: Setup, logFile: string | null, wallStarted: number) {
  const rssAll = sampleRss();
  const world = createWorld({ seed: settings.seed, enterprisesPerRegion: settings.perRegion });
  const ruleSet = await loadRuleSet(config.RULES_DIR);
  // The alert store wants locks for people's actions; the benchmark only reads and saves through it. It remembers
  // nothing (the probe times the engine's reads) and counts its writes, as every writer of alerts does.
  const lockRedis = new Redis(service.redisUrl);
  const alertStore = createAlertStore(service.storage, createLocks(lockRedis, config.REDIS_PREFIX), createAlertMemory(lockRedis, config.REDIS_PREFIX, 0));
  progress(`service started on the history (embedded ClickHouse, local Redis)${settings.warm ? '; waiting for its evaluation memory to be warmed' : ''}`);
  const warmed = settings.warm ? await service.warmed : null;
  if (warmed) progress(`evaluation memory warmed: ${fmt(warmed.companies)} companies, ${fmt(warmed.events)} events, facts of ${fmt(warmed.facts)} companies in ${secs(warmed.ms)}`);
  gc();

  const rssLive = sampleRss();
  const liveStarted = Date.now();
  const recorder = settings.timings ? recordStorageCalls(service.storage) : null;
  const profiler = settings.cpuProfile ? await startCpuProfile() : null;
  const allocations = settings.allocationProfile ? await startAllocationProfile() : null;
  const phases = await runLivePhases(service, history, config.REDIS_PREFIX, rssLive);
  if (profiler) writeFileSync(settings.cpuProfile!, JSON.stringify(await profiler()));
  if (allocations) writeFileSync(settings.allocationProfile!, JSON.stringify(await allocations()));
  recorder?.stop();
  const peakLiveRss = rssLive.stop();
  const storageCalls: CallSummary[][] | null = recorder ? phases.map((p) => summarizeCalls(recorder.calls, p.perfFrom, p.perfTo)) : null;

  progress('measuring latency from the stored alerts');
  const alerts = await alertLatencies(service.storage, liveStarted);
  const latency = latencyByPhase(alerts, phases);

  const probe = await probeContextRead(service.storage, alertStore, ruleSet, world, config.EVALUATE_CHUNK, history.to);
  const ids = ruleSet.rules.map((r) => r.spec.id).sort((a, b) => (a === 'frequent-visits' ? -1 : b === 'frequent-visits' ? 1 : a < b ? -1 : 1));
  const backtests: Array<{ rule: string; wallMs: number; report: BacktestReport }> = [];
  const backtestTo = new Date();
  for (const ruleId of ids) {
    progress(`backtest ${ruleId} over the whole history`);
    const t = performance.now();
    const report = await backtest(service.storage, { current: ruleSet, ruleId, from: new Date(history.from), to: backtestTo });
    backtests.push({ rule: ruleId, wallMs: performance.now() - t, report });
  }
  const peakRss = rssAll.stop();
  lockRedis.disconnect();
  const timings = logFile ? timingsFromLog(logFile, phases) : null;

  // ---- report
  const target = (ok: boolean) => (ok ? 'met' : '**not met**');
  const phaseName = (p: PhaseResult) => `${fmt(p.plan.rate)} events/s × ${p.plan.seconds} s`;
  const results = {
    machine: { cpus: cpus().length, node: process.version },
    settings: { ...settings, phases: phasePlans, evaluateConcurrency: config.EVALUATE_CONCURRENCY, evaluateChunk: config.EVALUATE_CHUNK, storeBatchWaitMs: config.STORE_BATCH_WAIT_MS, storeBatchRows: config.STORE_BATCH_ROWS },
    history: {
      loadedThrough: 'storage.insert (not HTTP)', companies: world.enterprises.length, agencies: world.agencies.length,
      from: new Date(history.from).toISOString(), to: new Date(history.to).toISOString(), events: history.events, rows: history.rows,
      visitsPerDay: history.visitsPerDay, generateAndInsertSeconds: Math.round(history.generateAndInsertMs / 100) / 10,
      optimizeSeconds: Math.round(history.optimizeMs / 100) / 10,
      referenceSeconds: Math.round(history.referenceMs / 100) / 10,
    },
    phases: phases.map((p, i) => ({
      rate: p.plan.rate, seconds: p.plan.seconds, client: p.client, evaluateBacklogAtEnd: p.backlogAtEnd, storeBacklogAtEnd: p.storeBacklogAtEnd,
      maxEvaluateBacklog: p.maxBacklog, drainSeconds: p.drainMs === null ? null : Math.round(p.drainMs / 100) / 10,
      latencyMs: latency.phases[i]!.measured, storePartMs: latency.phases[i]!.storePart, evaluatePartMs: latency.phases[i]!.evaluatePart,
      excludedDeferred: latency.phases[i]!.excluded, alertsByRule: latency.phases[i]!.byRule,
      alertsDeferredByRule: latency.phases[i]!.deferredByRule, serviceTimings: timings?.[i] ?? null,
      storageCalls: storageCalls?.[i] ?? null, eventLoopDelayMs: p.loopDelay, cpuSeconds: p.cpu,
    })),
    alertsFromHistoryOnly: latency.historyOnly,
    contextReadProbe: probe,
    historyAlerts: seeded && { alerts: seeded.alerts, byRule: seeded.byRule, seconds: Math.round(seeded.ms / 100) / 10 },
    warmedMemory: warmed && { companies: warmed.companies, events: warmed.events, facts: warmed.facts, seconds: Math.round(warmed.ms / 100) / 10 },
    backtests: backtests.map((b) => ({
      rule: b.rule, seconds: Math.round(b.wallMs / 100) / 10, companies: b.report.companies, eventsRead: b.report.events_read, alerts: b.report.alerts,
      byVariant: b.report.by_variant,
    })),
    peakRssMiB: { livePhases: mib(peakLiveRss), service: mib(peakRss), setupProcess: mib(setupPeakRss) },
    allocator: allocator(),
    wallSeconds: Math.round((performance.now() - wallStarted) / 1000),
    targets: TARGETS,
  };

  console.log('\nQingjian rules benchmark (embedded ClickHouse, local Redis, one process; load from a child process)\n');
  console.log(`History, loaded straight into storage with storage.insert (not through HTTP; setup, not measured): ` +
    `${fmt(history.events)} events (${fmt(history.rows)} rows) from ${new Date(history.from).toISOString().slice(0, 10)} to ` +
    `${new Date(history.to).toISOString().slice(0, 16)}Z, ${fmt(world.enterprises.length)} companies, ${world.agencies.length} agencies ` +
    `(demo generator, ${fmt(history.visitsPerDay)} visits per working day), generated and inserted in ${secs(history.generateAndInsertMs)}, ` +
    `merged (OPTIMIZE TABLE events FINAL) in ${secs(history.optimizeMs)} to ${parts} parts; in a process of its own, which then stopped.`);
  if (seeded) {
    console.log(`History alerts, raised by the rule engine over the whole history and stored before the live phases (setup): ` +
      `${fmt(seeded.alerts)} in ${secs(seeded.ms)}.`);
  }
  console.log(warmed
    ? `Evaluation memory warmed before the live phases (setup, as a service started on this history does): ${fmt(warmed.companies)} companies, ${fmt(warmed.events)} events (and the facts of ${fmt(warmed.facts)} companies) in ${secs(warmed.ms)}.`
    : 'Evaluation memory cold (--cold): the live phases start as soon as the service is up, while it warms its memory in the background (a restart under load).');
  console.log(`Live: the demo simulation's next ${fmt(history.liveEvents)} events, POSTed in event-time order at a constant rate ` +
    `(a request every ${settings.tickMs} ms), each phase followed by a drain.\n`);

  console.log('| phase | sent events/s | accepted | alerts measured | excluded (deferred) | p50 | p99 | max | evaluate backlog at end (max) | drain | target |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  phases.forEach((p, i) => {
    const l = latency.phases[i]!;
    const isTarget = p.plan.rate === TARGETS.p99AtRate;
    console.log(`| ${phaseName(p)} | ${fmt(p.client.achievedRate)} | ${fmt(p.client.accepted)}${p.client.errors ? ` (${p.client.errors} errors)` : ''} | ` +
      `${fmt(l.measured.n)} | ${fmt(l.excluded)} | ${msText(l.measured.p50)} | ${msText(l.measured.p99)} | ${msText(l.measured.max)} | ` +
      `${fmt(p.backlogAtEnd.waiting + p.backlogAtEnd.active)} jobs (${fmt(p.maxBacklog)}) | ${p.drainMs === null ? 'not drained in 30 min' : secs(p.drainMs)} | ` +
      `${isTarget ? `p99 ≤ ${TARGETS.p99Ms} ms — ${target((l.measured.p99 ?? Infinity) <= TARGETS.p99Ms)}` : '—'} |`);
  });
  for (const p of phases) if (p.client.firstError) console.log(`\n${phaseName(p)}: the first request not accepted answered ${p.client.firstError}`);
  console.log('\nLatency = raised_at of revision 1 − the newest received_at among its evidence events (from `alerts` and `events`);');
  console.log(`excluded: alerts decided late on purpose, from ${DEFERRED_DESCRIPTION}.`);
  console.log('Split of the measured alerts: accepted → stored (stored_at of that event) and stored → raised:');
  phases.forEach((p, i) => {
    const l = latency.phases[i]!;
    console.log(`- ${phaseName(p)}: accepted → stored p50 ${msText(l.storePart.p50)}, p99 ${msText(l.storePart.p99)}; ` +
      `stored → raised p50 ${msText(l.evaluatePart.p50)}, p99 ${msText(l.evaluatePart.p99)}; HTTP p50 ${p.client.latencyMs.p50} ms, p99 ${p.client.latencyMs.p99} ms; ` +
      `event-loop delay p99 ${fmt(p.loopDelay.p99Ms)} ms, max ${fmt(p.loopDelay.maxMs)} ms`);
  });
  console.log('CPU-seconds over each phase and its drain, from /proc: where the two cores went, and whether anything else ran:');
  for (const p of phases) {
    const c = p.cpu;
    const threads = c.otherThreads.map((t) => `${t.name} ${t.seconds.toFixed(1)}`).join(', ');
    console.log(`- ${phaseName(p)}: service main thread ${c.mainThread.toFixed(1)} s (${fmt(Math.round((c.mainThread * 1e6) / Math.max(1, p.client.accepted)))} µs an event accepted); ` +
      `its other threads ${c.otherThreads.reduce((sum, t) => sum + t.seconds, 0).toFixed(1)} s (${threads}); redis-server ${c.redis.toFixed(1)} s; ` +
      `interrupts ${c.interrupts.toFixed(1)} s; other processes ${c.otherProcesses.toFixed(1)} s (the load client, and anything else that ran); idle ${c.idle.toFixed(1)} s`);
  }

  const ruleKeys = [...new Set(latency.phases.flatMap((l) => Object.keys(l.byRule)))].sort();
  console.log(`\n| alerts raised (revision 1) | ${phases.map(phaseName).join(' | ')} |`);
  console.log(`| --- | ${phases.map(() => '---').join(' | ')} |`);
  for (const key of ruleKeys) {
    const cell = (l: PhaseLatency) => `${fmt(l.byRule[key] ?? 0)}${l.deferredByRule[key] ? ` (${fmt(l.deferredByRule[key])} deferred)` : ''}`;
    console.log(`| ${key} | ${latency.phases.map(cell).join(' | ')} |`);
  }
  const historyOnly = Object.entries(latency.historyOnly);
  if (historyOnly.length > 0) {
    console.log(`Not measured: ${historyOnly.map(([r, n]) => `${fmt(n)} ${r}`).join(', ')} alerts raised during the phases whose evidence is all history ` +
      '(raised when live events made the engine re-decide those spans).');
  }

  console.log('\n| backtest over the whole history | time | companies | events read | alerts | target |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const b of backtests) {
    console.log(`| ${b.rule} | ${secs(b.wallMs)} | ${fmt(b.report.companies)} | ${fmt(b.report.events_read)} | ${fmt(b.report.alerts)} | ` +
      `≤ ${TARGETS.backtestMs / 1000} s — ${target(b.wallMs <= TARGETS.backtestMs)} |`);
  }

  console.log(`\nPeak RSS of the service during the live phases (${allocator()}): ${mib(peakLiveRss)} MiB (its whole run, warm-up and backtests included: ${mib(peakRss)} MiB; ` +
    `the setup's process, which generated and inserted the history and stopped before the service started: ${mib(setupPeakRss)} MiB).`);
  console.log(`Context read of one evaluation chunk (${probe.companies} random companies, no load): companies ${msText(probe.companiesMs)}, ` +
    `events ${msText(probe.eventsMs)} (${fmt(probe.rows)} rows; spans in days ${JSON.stringify(probe.spanDays)}), alerts ${msText(probe.alertsMs)} ` +
    `(${fmt(probe.storedAlerts)}); evaluating and reconciling them in JS ${msText(probe.evaluateMs)}.`);
  if (timings) {
    timings.forEach((t, i) => {
      console.log(`Service timings, ${phaseName(phases[i]!)}: insert batches ${fmt(t.insertBatches.n)} (rows p50 ${fmt(t.rowsPerBatch.p50 ?? 0)}), ` +
        `insert+enqueue p50 ${msText(t.insertBatches.p50)} p99 ${msText(t.insertBatches.p99)}; evaluation chunks ${fmt(t.evaluationChunks.n)} ` +
        `(companies p50 ${fmt(t.companiesPerChunk.p50 ?? 0)}), p50 ${msText(t.evaluationChunks.p50)} p99 ${msText(t.evaluationChunks.p99)} max ${msText(t.evaluationChunks.max)}` +
        `${t.companiesHandedBackBusy ? `; ${fmt(t.companiesHandedBackBusy)} companies handed back (locked elsewhere)` : ''}` +
        `${t.failedJobs ? `; ${t.failedJobs} failed jobs (${t.firstFailure})` : ''}`);
    });
  }
  if (storageCalls) {
    console.log(`\n| storage calls, phase start → drained | ${phases.map(phaseName).join(' | ')} |`);
    console.log(`| --- | ${phases.map(() => '---').join(' | ')} |`);
    const kinds = [...new Set(storageCalls.flat().map((c) => c.kind))];
    for (const kind of kinds) {
      const cells = storageCalls.map((own) => {
        const c = own.find((x) => x.kind === kind);
        return c ? `${fmt(c.calls)} calls, ${fmt(c.rows)} rows, ${secs(c.totalMs)} total, p50 ${msText(c.p50Ms)}, p99 ${msText(c.p99Ms)}` : '—';
      });
      console.log(`| ${kind.replace(/\|/g, '\\|')} | ${cells.join(' | ')} |`);
    }
    console.log(`(phase wall times: ${phases.map((p) => secs(p.perfTo - p.perfFrom)).join(', ')}; calls overlap when concurrent)`);
  }
  console.log(`Wall time: ${secs(performance.now() - wallStarted)}. EVALUATE_CONCURRENCY=${config.EVALUATE_CONCURRENCY} EVALUATE_CHUNK=${config.EVALUATE_CHUNK} ` +
    `STORE_BATCH_WAIT_MS=${config.STORE_BATCH_WAIT_MS} STORE_BATCH_ROWS=${config.STORE_BATCH_ROWS}`);

  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(join(import.meta.dirname, 'results', 'rules.json'), `${JSON.stringify(results, null, 2)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
