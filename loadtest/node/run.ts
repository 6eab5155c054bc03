/**
 * `npm run load`: the Node twin of the k6 load test (loadtest/qingjian.js).
 * It reads the same scenario file, runs the same scenarios on one clock with
 * k6's executor semantics, judges the same thresholds and prints the same
 * report (lib/summary.js) — then what k6 cannot see from outside: the
 * service's RSS and CPU, Redis memory, queue depths, per-stage figures of a
 * ramping scenario, whether every listener got every alert of its city once,
 * and the stored rows and alerts (verify.ts).
 *
 * By default it starts the service as the quick start does (`qingjian start`:
 * API + workers, embedded ClickHouse) with a redis-server of its own.
 *
 *   npm run load                                         # loadtest/scenario.json
 *   npm run load -- --scenario loadtest/knee-batch.json  # the knee: per-stage table
 *   npm run load -- --backlog 600                        # a 10-minute backlog: how long it takes to drain
 *   npm run load -- --scale 0.5 --duration 30s           # lighter, shorter
 *   npm run load -- --url http://host:8080               # a running service (TOKEN or *_TOKEN in the environment)
 *
 * Exit codes as k6: 99 when a threshold fails; 1 when verification fails.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createEmbeddedStorage } from '../../src/storage/embedded.js';
import { startLocalRedis, type LocalRedis } from '../../src/redis/local-server.js';
import { formatSummary, thresholdsPassed, type SummaryData } from '../lib/summary.js';
import {
  createTraffic, eventsPerIteration, INGEST_SCENARIOS, newRun, outcomeCounts, scenarioSeconds, seconds,
  type Plan, type Run, type ScenarioOptions, type Traffic,
} from '../lib/traffic.js';
import { formatChecks, verifyRun } from '../verify.js';
import { durationOf, runArrivalRate } from './executors.js';
import { Histogram } from './histogram.js';
import { closeAgent, request } from './http.js';
import type { ListenerPlan, ListenerReport } from './listeners.js';
import { Metrics } from './metrics.js';
import { logFileIn, processFigures, startSampler, startService, type Sampler, type ServiceProcess } from './service.js';
import { resources, Timeline } from './timeline.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const { values: flags } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'loadtest/scenario.json' },
    out: { type: 'string', default: 'loadtest/results/summary.json' },
    url: { type: 'string' },
    scale: { type: 'string', default: '1' },
    duration: { type: 'string' },
    backlog: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});

const REFERENCE_CHUNK = 5000;
const SETTLE_TIMEOUT_MS = 15 * 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const fmtMs = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`);

// ---------------------------------------------------------------- the plan

/** The scenario file, with --scale (rates and listeners) and --duration (every arrival-rate scenario) applied. */
function loadPlan(): Plan {
  const plan = JSON.parse(readFileSync(resolve(ROOT, flags.scenario!), 'utf8')) as Plan;
  const scale = Number(flags.scale);
  if (!(scale > 0)) throw new Error('--scale must be a positive number');
  for (const s of Object.values(plan.options.scenarios)) {
    if (s.rate !== undefined) s.rate = round(s.rate * scale, 3);
    if (s.stages) for (const st of s.stages) st.target = round(st.target * scale, 3);
    if (s.vus !== undefined) s.vus = Math.max(1, Math.round(s.vus * scale));
    if (flags.duration && s.duration && s.executor !== 'constant-vus') s.duration = flags.duration;
  }
  // Listeners stay connected until the last ingest iteration has had time to raise its alert.
  const feed = plan.options.scenarios.feed;
  if (feed && flags.duration) {
    const end = Math.max(...Object.values(plan.options.scenarios).filter((s) => s !== feed).map((s) => seconds(s.startTime ?? '0s') + durationOf(s)));
    feed.duration = `${end + 10}s`;
  }
  return plan;
}

// ---------------------------------------------------------------- the run

interface Tokens {
  ingest: string;
  feed: string;
  read: string;
  hotline: string;
}

interface Target {
  url: string;
  tokens: Tokens;
  service: ServiceProcess | null;
  sampler: Sampler | null;
  redis: LocalRedis | null;
  dir: string | null;
}

async function createTokens(url: string, admin: string): Promise<Tokens> {
  const make = async (role: string) => {
    const res = await request('POST', `${url}/v1/tokens`, admin, JSON.stringify({ name: `loadtest-${role}`, role }));
    if (res.status !== 201) throw new Error(`POST /v1/tokens (${role}): ${res.status} ${res.body}`);
    return (JSON.parse(res.body) as { token: string }).token;
  };
  return { ingest: await make('ingest'), feed: await make('discipline'), read: await make('discipline'), hotline: await make('hotline') };
}

async function startLocal(command: 'start' | 'api', dir: string, redis: LocalRedis, admin: string): Promise<ServiceProcess> {
  return startService({ command, dataDir: join(dir, 'data'), redisUrl: redis.url, token: admin, logFile: logFileIn(dir, `qingjian-${command}`) });
}

async function setUp(plan: Plan, target: Target, run: Run): Promise<void> {
  const { agencies, enterprises } = createTraffic(plan, run).referenceData();
  const put = async (path: string, items: unknown[]) => {
    const res = await request('PUT', `${target.url}${path}`, target.tokens.ingest, JSON.stringify(items));
    if (res.status !== 200) throw new Error(`setup: PUT ${path} answered ${res.status}: ${res.body.slice(0, 300)}`);
  };
  await put('/v1/agencies', agencies);
  for (let i = 0; i < enterprises.length; i += REFERENCE_CHUNK) await put('/v1/enterprises', enterprises.slice(i, i + REFERENCE_CHUNK));
}

/** What the twin counts beyond k6's metrics: acknowledged triggers per city (each listener of the city must get them all). */
const ackedTriggersByCity = new Map<string, number>();

function ingestIteration(name: string, traffic: Traffic, target: Target, metrics: Metrics, timeline: Timeline) {
  return async (i: number) => {
    const events = traffic.iteration(name, i, Date.now());
    const body = JSON.stringify(name === 'ingest_single' ? events[0] : events);
    const tags = { scenario: name, name: 'events' };
    const res = await request('POST', `${target.url}/v1/events`, target.tokens.ingest, body);
    const counts = outcomeCounts(events, traffic);
    const ok = res.status === 202;
    recordHttp(metrics, res.ms, res.status, tags, res.body);
    for (const key of ['events', 'triggers', 'complaints'] as const) {
      metrics.add(`${key}_sent`, counts[key], tags);
      if (ok) metrics.add(`${key}_acked`, counts[key], tags);
    }
    if (ok) {
      for (const e of events) {
        if (traffic.isTrigger(Number(e.id.slice(e.id.lastIndexOf('-') + 1)))) {
          const city = e.region.slice(0, 4);
          ackedTriggersByCity.set(city, (ackedTriggersByCity.get(city) ?? 0) + 1);
        }
      }
    }
    timeline.record(name, Date.now(), res.ms, ok ? counts.events : 0);
  };
}

function readIteration(traffic: Traffic, target: Target, metrics: Metrics, timeline: Timeline) {
  return async (i: number) => {
    const [name, path] = traffic.read(i);
    const res = await request('GET', `${target.url}${path}`, name === 'tickets' ? target.tokens.hotline : target.tokens.read);
    recordHttp(metrics, res.ms, res.status, { scenario: 'reads', name }, res.body);
    timeline.record('reads', Date.now(), res.ms, 0);
  };
}

/** Cores the load's own processes used: the twin (ingest and reads) and the listeners' process. */
const clientCpu = { twin: 0, listeners: 0 };

/** The first failed requests, to say what failed. */
const failures: string[] = [];

function recordHttp(metrics: Metrics, ms: number, status: number, tags: Record<string, string>, body = ''): void {
  if ((status < 200 || status >= 400) && failures.length < 5) failures.push(`${tags.scenario} ${tags.name}: ${status || 'no answer'} ${body.slice(0, 160)}`);
  metrics.add('http_req_duration', ms, tags);
  // k6's default: a response is a failure unless its status is 200–399.
  metrics.add('http_req_failed', status >= 200 && status < 400 ? 0 : 1, tags);
  metrics.add('http_reqs', 1, tags);
  metrics.add('iterations', 1, tags);
}

interface Listeners {
  report(): Promise<ListenerReport>;
  close(): void;
}

async function startListeners(plan: Plan, scenario: ScenarioOptions, target: Target, run: Run): Promise<Listeners & { pid: number; connected: number; failed: number; seconds: number }> {
  const child = fork(join(ROOT, 'loadtest/node/listeners.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = <T>(type: string) => new Promise<T>((r) => {
    const on = (m: { type: string }) => {
      if (m.type !== type) return;
      child.off('message', on);
      r(m as T);
    };
    child.on('message', on);
  });
  const listenerPlan: ListenerPlan = {
    url: target.url, token: target.tokens.feed, count: scenario.vus ?? 1,
    regions: plan.traffic.regions.map((r) => r.slice(0, 4)), run: { nonce: run.nonce, started_at: run.started_at }, concurrency: 50,
  };
  const connected = next<{ connected: number; failed: number; seconds: number }>('connected');
  child.send({ type: 'connect', ...listenerPlan });
  return {
    ...(await connected),
    pid: child.pid!,
    async report() {
      const report = next<ListenerReport>('report');
      child.send({ type: 'report' });
      return report;
    },
    close: () => child.send({ type: 'close' }),
  };
}

async function settle(sampler: Sampler | null): Promise<number | null> {
  if (!sampler) return null;
  const started = Date.now();
  while ((await sampler.pending()) > 0) {
    if (Date.now() - started > SETTLE_TIMEOUT_MS) throw new Error('the pipeline did not drain within 15 minutes');
    await sleep(250);
  }
  return (Date.now() - started) / 1000;
}

// ---------------------------------------------------------------- steady and ramping runs

async function loadRun(plan: Plan, target: Target): Promise<number> {
  const run = newRun(Date.now(), Math.random());
  const traffic = createTraffic(plan, run);
  const metrics = new Metrics(plan.options.thresholds);
  const timeline = new Timeline();
  process.stdout.write(`setting up run ${run.id}: reference data for ${traffic.referenceData().enterprises.length} companies\n`);
  await setUp(plan, target, run);

  const scenarios = plan.options.scenarios;
  const feedScenario = Object.values(scenarios).find((s) => s.executor === 'constant-vus');
  const clock = Date.now();
  let listeners: Awaited<ReturnType<typeof startListeners>> | null = null;
  if (feedScenario) {
    listeners = await startListeners(plan, feedScenario, target, run);
    process.stdout.write(`feed: ${listeners.connected} listeners subscribed in ${listeners.seconds.toFixed(1)} s (${listeners.failed} failed)\n`);
    metrics.add('feed_connect_failed', listeners.failed);
    const firstStart = Math.min(...Object.values(scenarios).filter((s) => s !== feedScenario).map((s) => seconds(s.startTime ?? '0s')));
    if (Date.now() - clock > firstStart * 1000) process.stdout.write('warning: listeners were still connecting when the first scenario began\n');
  }

  const runs = Object.entries(scenarios).filter(([, s]) => s.executor !== 'constant-vus').map(([name, s]) => {
    const iterate = name in INGEST_SCENARIOS ? ingestIteration(name, traffic, target, metrics, timeline) : readIteration(traffic, target, metrics, timeline);
    process.stdout.write(`${name}: ${describe(plan, name, s)}\n`);
    return runArrivalRate(s, clock, iterate, () => metrics.add('dropped_iterations', 1, { scenario: name }));
  });
  await Promise.all(runs);
  const loadEnded = Date.now();
  const used = process.cpuUsage();
  clientCpu.twin = (used.user + used.system) / 1e6 / ((loadEnded - clock) / 1000);
  const settledAfter = await settle(target.sampler);

  let report: ListenerReport | null = null;
  if (listeners && feedScenario) {
    // Listeners hold on until the feed scenario's end (k6 closes them then), or until the pipeline has drained.
    await sleep(Math.max(1000, clock + durationOf(feedScenario) * 1000 - Date.now()));
    report = await listeners.report();
    clientCpu.listeners = processFigures(listeners.pid).cpuSeconds / ((Date.now() - clock) / 1000);
    listeners.close();
    const all = new Histogram();
    for (const [second, h] of Object.entries(report.bySecond)) {
      const hist = Histogram.from(h);
      timeline.latencyBySecond.set(Number(second), hist);
      all.merge(hist);
    }
    metrics.mergeTrend('alert_latency', all);
    metrics.add('alerts_received', report.received);
    metrics.add('feed_dropped', report.closedEarly);
    metrics.add('feed_alerts_missed', missedByListeners(report));
  }

  const durations = Object.fromEntries(Object.entries(scenarios).map(([name, s]) => [name, scenarioSeconds(s)]));
  const summary = metrics.summary(Date.now() - clock, { run, durations });
  process.stdout.write(formatSummary(summary));
  writeSummary(summary);

  const extraOk = printTwinFigures(plan, target, clock, loadEnded, settledAfter, timeline, report);
  const verified = await stopAndVerify(target, summary);
  return !thresholdsPassed(summary) ? 99 : verified && extraOk ? 0 : 1;
}

/** Alerts the listeners should have received (every acknowledged trigger of their city, each) and did not. */
function missedByListeners(report: ListenerReport): number {
  let expected = 0;
  for (const [city, r] of Object.entries(report.regions)) expected += (ackedTriggersByCity.get(city) ?? 0) * r.listeners;
  return Math.max(0, expected - report.received);
}

function describe(plan: Plan, name: string, s: ScenarioOptions): string {
  const per = eventsPerIteration(plan, name);
  const unit = name in INGEST_SCENARIOS ? `${per === 1 ? 'request' : `request of ${per} events`}` : 'read';
  if (s.stages) return `ramping ${s.stages.map((st) => st.target).join(' → ')} per ${s.timeUnit ?? '1s'} (${unit}), ${durationOf(s)} s`;
  return `${s.rate} per ${s.timeUnit ?? '1s'} (${unit}) for ${s.duration}, from ${s.startTime ?? '0s'}`;
}

function writeSummary(summary: SummaryData): void {
  const out = resolve(ROOT, flags.out!);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(summary, null, 2));
  process.stdout.write(`summary written to ${flags.out}\n`);
}

/** RSS, Redis memory, CPU and queues over the steady part; a per-stage table for ramping scenarios; listener completeness. */
function printTwinFigures(
  plan: Plan, target: Target, clock: number, loadEnded: number, settledAfter: number | null, timeline: Timeline, report: ListenerReport | null,
): boolean {
  let ok = true;
  const lines = ['', 'SERVICE (measured by the twin)'];
  const ingest = Object.entries(plan.options.scenarios).filter(([name]) => name in INGEST_SCENARIOS);
  const loadStart = clock + Math.min(...ingest.map(([, s]) => seconds(s.startTime ?? '0s'))) * 1000;
  if (target.sampler) {
    // Steady state: the load's second half, once queues and caches have warmed up.
    const r = resources(target.sampler.samples, loadStart + (loadEnded - loadStart) / 2, loadEnded);
    lines.push(`  steady state (second half of the load): service RSS median ${r.rssMiB.median.toFixed(0)} MiB (max ${r.rssMiB.max.toFixed(0)}), Redis used_memory median ${r.redisMiB.median.toFixed(1)} MiB (max ${r.redisMiB.max.toFixed(1)}), service CPU ${r.cpuCores.toFixed(2)} of ${cpus().length} cores`);
    const byQueue = (counts: Record<string, number>) => Object.entries(counts).map(([q, n]) => `${q} ${n}`).join(', ');
    lines.push(`  most jobs ready or running at once: ${byQueue(r.maxQueued)}; pipeline drained ${settledAfter?.toFixed(1)} s after the load stopped`);
    lines.push(`  most jobs delayed on purpose at once (deadlines, timers, retries): ${byQueue(r.maxDelayed)}`);
  }
  if (report) {
    const shortfalls: string[] = [];
    for (const [city, r] of Object.entries(report.regions)) {
      const expected = ackedTriggersByCity.get(city) ?? 0;
      if (r.minReceived < expected) shortfalls.push(`${city}: a listener got ${r.minReceived} of ${expected}`);
    }
    const listeners = Object.values(report.regions).reduce((n, r) => n + r.listeners, 0);
    ok = shortfalls.length === 0 && report.duplicates === 0 && report.closedEarly === 0;
    lines.push(ok
      ? `  feed: each of ${listeners} listeners received every alert of its city once (${report.received} receipts, 0 duplicates, 0 dropped connections)`
      : `  feed: INCOMPLETE — ${shortfalls.join('; ') || 'none missing'}; duplicates ${report.duplicates}; connections closed early ${report.closedEarly}`);
  }
  lines.push(`  the load's own processes on the same cores: the twin (ingest, reads) ${clientCpu.twin.toFixed(2)} cores, the listeners' process ${clientCpu.listeners.toFixed(2)} cores (averages over the run)`);
  for (const failure of failures) lines.push(`  failed request: ${failure}`);
  for (const [name, s] of ingest) {
    if (!s.stages) continue;
    lines.push('', `STAGES of ${name} (held stages; offered = target × events per iteration)`);
    lines.push('  offered ev/s | acknowledged ev/s | HTTP p50 | HTTP p99 | event → alert p50 | p99 | ready or running (store/evaluate) | service CPU');
    let at = clock + seconds(s.startTime ?? '0s') * 1000;
    let previous = s.startRate ?? 0;
    for (const stage of s.stages) {
      const end = at + seconds(stage.duration) * 1000;
      if (stage.target === previous) {
        const w = timeline.window(name, at, end);
        const lat = timeline.latency(at, end);
        const r = target.sampler ? resources(target.sampler.samples, at, end) : null;
        const per = eventsPerIteration(plan, name);
        lines.push(`  ${String(stage.target * per).padStart(12)} | ${w.ackedPerSecond.toFixed(0).padStart(17)} | ${fmtMs(w.http.percentile(50)).padStart(8)} | ${fmtMs(w.http.percentile(99)).padStart(8)} | ${fmtMs(lat.percentile(50)).padStart(17)} | ${fmtMs(lat.percentile(99)).padStart(7)} | ${`${r?.maxQueued.store ?? '—'} / ${r?.maxQueued.evaluate ?? '—'}`.padStart(33)} | ${r ? r.cpuCores.toFixed(2) : '—'}`);
      }
      previous = stage.target;
      at = end;
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return ok;
}

/** Stops the local service (gracefully), then reads its embedded ClickHouse to verify the run. */
async function stopAndVerify(target: Target, summary: SummaryData): Promise<boolean> {
  await target.sampler?.stop();
  if (!target.service || !target.dir) {
    process.stdout.write('\nverify: run `npm run load:verify` against the service\'s ClickHouse (see loadtest/README.md)\n');
    return true;
  }
  await target.service.stop();
  const storage = createEmbeddedStorage(join(target.dir, 'data', 'clickhouse'), 'default');
  try {
    const checks = await verifyRun(storage, summary);
    process.stdout.write(`\n${formatChecks(checks)}\n`);
    const [disk] = await storage.query<{ rows: string; bytes: string }>(
      "SELECT sum(rows) AS rows, sum(data_compressed_bytes) AS bytes FROM system.parts WHERE active AND database = currentDatabase() AND table = 'events'");
    process.stdout.write(`  events on disk: ${Number(disk!.rows)} rows, ${(Number(disk!.bytes) / Number(disk!.rows)).toFixed(0)} compressed bytes per row (before merges fold retries)\n`);
    return checks.every((c) => c.ok);
  } finally {
    await storage.close();
  }
}

// ---------------------------------------------------------------- backlog drain

/**
 * A backlog of `backlogSeconds` of the scenario's ingest traffic: accepted by
 * `qingjian api` alone (no workers, as during a worker outage), then
 * `qingjian start` takes over the same data and Redis; the time until every
 * queue is empty is the drain time.
 */
async function backlogRun(plan: Plan, target: Target, backlogSeconds: number, admin: string): Promise<number> {
  const ingest = Object.entries(plan.options.scenarios).filter(([name]) => name in INGEST_SCENARIOS);
  const ratePerSecond = ingest.reduce((sum, [name, s]) => sum + ((s.rate ?? 0) / seconds(s.timeUnit ?? '1s')) * eventsPerIteration(plan, name), 0);
  const events = Math.round(ratePerSecond * backlogSeconds);
  const batch = plan.traffic.batch_size;
  const iterations = Math.ceil(events / batch);
  // The backlog's companies: sized for its batches.
  const backlogPlan: Plan = { ...plan, options: { ...plan.options, scenarios: { ingest_batch: { executor: 'constant-arrival-rate', exec: 'ingestBatch', rate: iterations, timeUnit: '1s', duration: '1s' } } } };
  const run = newRun(Date.now(), Math.random());
  const traffic = createTraffic(backlogPlan, run);
  const metrics = new Metrics({});
  await setUp(backlogPlan, target, run);
  process.stdout.write(`backlog: ${backlogSeconds} s of ${ratePerSecond.toFixed(0)} events/s = ${iterations * batch} events in requests of ${batch}, accepted by \`qingjian api\` alone\n`);

  const timeline = new Timeline();
  const iterate = ingestIteration('ingest_batch', traffic, target, metrics, timeline);
  const started = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < iterations) await iterate(next++);
  }));
  const acceptSeconds = (Date.now() - started) / 1000;
  const queued = await target.sampler!.sample();
  process.stdout.write(`  accepted in ${acceptSeconds.toFixed(1)} s; queued: store ${queued.queues.store} jobs; Redis used_memory ${queued.redisMiB.toFixed(0)} MiB\n`);

  await target.service!.stop();
  const spawned = Date.now();
  target.service = await startLocal('start', target.dir!, target.redis!, admin);
  const ready = (Date.now() - spawned) / 1000;
  const drained = await settle(target.sampler);
  const total = (Date.now() - spawned) / 1000;
  const r = resources(target.sampler!.samples, spawned, Date.now());
  process.stdout.write([
    `  \`qingjian start\` ready after ${ready.toFixed(1)} s; every queue empty ${total.toFixed(1)} s after it was started (${drained!.toFixed(1)} s after ready)`,
    `  drain rate ${(iterations * batch / total).toFixed(0)} events/s; service RSS max ${r.rssMiB.max.toFixed(0)} MiB; Redis used_memory max ${r.redisMiB.max.toFixed(0)} MiB; CPU ${r.cpuCores.toFixed(2)} cores`,
    '',
  ].join('\n'));
  const summary = metrics.summary(Date.now() - started, { run, durations: { ingest_batch: acceptSeconds } });
  writeSummary(summary);
  return (await stopAndVerify(target, summary)) ? 0 : 1;
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const plan = loadPlan();
  if (flags.url) {
    const token = (role: string) => process.env[`${role}_TOKEN`] ?? process.env.TOKEN ?? '';
    if (!token('INGEST')) throw new Error('--url needs TOKEN (or INGEST_TOKEN, FEED_TOKEN, READ_TOKEN, HOTLINE_TOKEN) in the environment');
    const tokens = { ingest: token('INGEST'), feed: token('FEED'), read: token('READ'), hotline: token('HOTLINE') };
    return loadRun(plan, { url: flags.url.replace(/\/$/, ''), tokens, service: null, sampler: null, redis: null, dir: null });
  }
  const dir = mkdtempSync(join(tmpdir(), 'qingjian-load-'));
  const admin = `lt_${randomBytes(24).toString('hex')}`;
  const redis = await startLocalRedis({ dir: join(dir, 'redis') });
  let service: ServiceProcess | null = null;
  try {
    service = await startLocal(flags.backlog ? 'api' : 'start', dir, redis, admin);
    const target: Target = { url: service.url, tokens: await createTokens(service.url, admin), service, sampler: null, redis, dir };
    target.sampler = startSampler(() => target.service!.pid, redis.url);
    process.stdout.write(`service: qingjian ${flags.backlog ? 'api' : 'start'} (pid ${service.pid}, embedded ClickHouse) at ${service.url}; Redis ${redis.url}; data in ${dir}\n`);
    const code = flags.backlog ? await backlogRun(plan, target, Number(flags.backlog), admin) : await loadRun(plan, target);
    service = target.service;
    return code;
  } finally {
    await service?.stop();
    await redis.stop();
    closeAgent();
    if (!flags.keep) rmSync(dir, { recursive: true, force: true });
    else process.stdout.write(`kept ${dir}\n`);
  }
}

main().then((code) => process.exit(code), (err: Error) => {
  process.stderr.write(`load: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
