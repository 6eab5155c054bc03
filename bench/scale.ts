/**
 * `npm run bench:scale`: does adding processes add throughput? The same
 * open-loop load against three deployments on this machine, each part a real
 * child process:
 *
 *   1 process    `qingjian start` (API + workers, embedded ClickHouse) + redis-server
 *   1 API + 1 W  `qingjian api`, `qingjian worker`, the chdb HTTP shim as ClickHouse, redis-server
 *   2 API + 2 W  two of each (requests round-robin over both APIs), same shim and Redis
 *
 * Per deployment: reference data, a short warm-up, then steps at fixed offered
 * rates (events/s, requests of 100 events, from bench/scale-load.ts in its own
 * process). After each step the bench waits until every accepted event is
 * stored (the workers' `qingjian_event_store_lag_seconds` count) and the
 * store, evaluate and hotline queues are empty, so steps do not carry backlog
 * into each other. Figures per step: events/s HTTP → stored rows and HTTP →
 * evaluated (queues drained), both over the time from the step's start until
 * then; HTTP p50/p99; event → alert latency (`raised_at` of the no-plan alert
 * one check-in per request raises, minus the request's send time); CPU
 * seconds per process from /proc (and its main JS thread apart from its other
 * threads: ClickHouse engine, GC, libuv), and how busy the machine was.
 *
 * Prints tables and writes bench/results/scale.json.
 *
 *   npm run bench:scale                    # steps 1k, 2k, 4k, 8k events/s, 20 s each
 *   npm run bench:scale -- --quick         # 1k, 2k, 4k events/s, 5 s each (~2 min)
 *   npm run bench:scale -- --rates 500,1000 --seconds 10 --configs 1p,2x2
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Managed, startCluster, type Cluster } from '../chaos/cluster.js';
import { bullPrefix, QUEUES } from '../src/queues/index.js';
import { freePort } from '../src/redis/local-server.js';
import {
  backgroundWorld, TRIGGER_AGENCY, TRIGGER_DISTRICT, triggerCompany, triggersOf, type LoadSetup, type StepPlan, type StepReport,
} from './scale-load.js';
import { benchAuth } from './token.js';

const { values: flags } = parseArgs({
  options: { quick: { type: 'boolean' }, rates: { type: 'string' }, seconds: { type: 'string' }, configs: { type: 'string' }, keep: { type: 'boolean' } },
});
const quick = flags.quick ?? false;
const RATES = flags.rates ? flags.rates.split(',').map(Number) : quick ? [1000, 2000, 4000] : [1000, 2000, 4000, 8000];
const SECONDS = Number(flags.seconds ?? (quick ? 5 : 20));
const WARMUP: StepPlan = { step: 0, rate: 500, seconds: quick ? 2 : 5 };
const BATCH = 100;
const DRAIN_TIMEOUT_MS = (quick ? 45 : 240) * 1000;
const SEED = 11;
const CONFIGS = [
  { id: '1p', title: '1 process (embedded ClickHouse)', apis: 0, workers: 0 },
  { id: '1x1', title: '1 API + 1 worker (shim)', apis: 1, workers: 1 },
  { id: '2x2', title: '2 APIs + 2 workers (shim)', apis: 2, workers: 2 },
].filter((c) => !flags.configs || flags.configs.split(',').includes(c.id));
if (RATES.some((r) => !(r > 0)) || !(SECONDS > 0) || RATES.length > 9 || CONFIGS.length === 0) throw new Error('bad --rates, --seconds or --configs');

const TOKEN = benchAuth.authorization.slice('Bearer '.length);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const started = Date.now();
const progress = (text: string) => console.log(`· +${Math.round((Date.now() - started) / 1000)}s ${text}`);

// ---------------------------------------------------------------- deployments

interface Deployment {
  apiUrls: string[];
  /** Where the store workers' metrics are (the single process serves them on its API port). */
  metricsUrls: string[];
  redisUrl: string;
  redisPrefix: string;
  /** Every process of the deployment, by role. */
  processes: Array<{ role: string; pid: number }>;
  stop(): Promise<void>;
}

const serviceEnv = {
  LOG_LEVEL: 'warn', RULES_WATCH: 'false', QINGJIAN_BOOTSTRAP_TOKEN: TOKEN, RATE_LIMIT_PER_MINUTE: '0', HOST: '127.0.0.1',
};

/** `qingjian start` with the embedded engine; its Redis a separate redis-server so its CPU is counted apart. */
async function startSingle(dir: string): Promise<Deployment> {
  const logs = join(dir, 'logs');
  mkdirSync(join(dir, 'redis'), { recursive: true });
  mkdirSync(logs, { recursive: true });
  const [redisPort, apiPort] = await Promise.all([freePort(), freePort()]);
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const redis = new Managed({
    name: 'redis', command: 'redis-server', logFile: join(logs, 'redis.log'),
    // As src/redis/local-server.ts starts it.
    args: ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', join(dir, 'redis'), '--appendonly', 'yes', '--appendfsync', 'everysec',
      '--save', '', '--maxmemory-policy', 'noeviction', '--protected-mode', 'yes'],
    ready: async () => {
      const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on('error', () => {});
      try {
        await r.connect();
        return (await r.ping()) === 'PONG';
      } finally {
        r.disconnect();
      }
    },
  });
  const service = new Managed({
    name: 'service', command: process.execPath, args: ['--import', 'tsx', 'src/cli.ts', 'start'], logFile: join(logs, 'service.log'),
    env: { ...process.env, ...serviceEnv, REDIS_URL: redisUrl, PORT: String(apiPort), DATA_DIR: join(dir, 'service'), METRICS_PORT: '0' },
    ready: async () => (await fetch(`${apiUrl}/readyz`, { signal: AbortSignal.timeout(2_000) })).ok,
  });
  await redis.start();
  await service.start();
  return {
    apiUrls: [apiUrl], metricsUrls: [`${apiUrl}/metrics`], redisUrl, redisPrefix: 'qj',
    processes: [{ role: 'service (api+workers+chdb)', pid: service.pid! }, { role: 'redis', pid: redis.pid! }],
    async stop() {
      await service.kill('SIGKILL');
      await redis.kill('SIGKILL');
    },
  };
}

async function startScaled(dir: string, apis: number, workers: number): Promise<Deployment> {
  const cluster: Cluster = await startCluster({ dir, token: TOKEN, appendfsync: 'everysec', apis, workers, env: serviceEnv });
  return {
    apiUrls: cluster.apiUrls, metricsUrls: cluster.workerMetricsUrls, redisUrl: cluster.redisUrl, redisPrefix: cluster.redisPrefix,
    processes: [
      ...cluster.apis.map((p) => ({ role: p.name, pid: p.pid! })),
      ...cluster.workers.map((p) => ({ role: p.name, pid: p.pid! })),
      { role: 'clickhouse shim', pid: cluster.clickhouse.pid! },
      { role: 'redis', pid: cluster.redis.pid! },
    ],
    stop: () => cluster.stop(),
  };
}

// ---------------------------------------------------------------- measuring

const TICK_S = 100; // getconf CLK_TCK on Linux

/** CPU seconds of a process (all its threads, living and exited) and of its main thread. */
function cpuOf(pid: number): { total: number; main: number } {
  const parse = (path: string) => {
    const text = readFileSync(path, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICK_S; // utime + stime
  };
  try {
    return { total: parse(`/proc/${pid}/stat`), main: parse(`/proc/${pid}/task/${pid}/stat`) };
  } catch {
    return { total: NaN, main: NaN };
  }
}

function peakRssMiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

/** Busy and total jiffies of the whole machine. */
function machine(): { busy: number; total: number } {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const n = values.map(Number);
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - n[3]! - n[4]!, total };
}

/** The per-thread breakdown of a process right now, grouped by thread name (live threads only). */
function threads(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // Threads Node.js and chdb leave unnamed inherit the name `node`: V8's platform workers (GC, compiler), libuv's pool.
      const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')).replace(/[0-9]+$/, '#');
      const name = tid === String(pid) ? 'main thread' : comm === 'node' ? 'unnamed (V8/libuv)' : comm;
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      out[name] = (out[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) / TICK_S;
    }
  } catch { /* gone */ }
  return out;
}

async function storedCount(urls: string[]): Promise<number> {
  const counts = await Promise.all(urls.map(async (url) => {
    const text = await (await fetch(url, { headers: benchAuth, signal: AbortSignal.timeout(5_000) })).text();
    const m = /^qingjian_event_store_lag_seconds_count(?:\{[^}]*\})? (\d+(?:\.\d+)?(?:e\+?\d+)?)$/m.exec(text);
    return m ? Number(m[1]) : 0;
  }));
  return counts.reduce((a, b) => a + b, 0);
}

interface Queues {
  busy(): Promise<number>;
  close(): Promise<void>;
}

function queuesOf(d: Deployment): Queues {
  const redis = new Redis(d.redisUrl, { maxRetriesPerRequest: null });
  const [store, evaluate, hotline] = [QUEUES.store.name, QUEUES.evaluate.name, QUEUES.hotline.name].map((name) => new Queue(name, { connection: redis, prefix: bullPrefix(d.redisPrefix) }));
  const sum = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
  return {
    async busy() {
      const [s, e, h] = await Promise.all([
        store!.getJobCounts('wait', 'active', 'prioritized', 'delayed'),
        evaluate!.getJobCounts('wait', 'active', 'prioritized', 'delayed'),
        // The hotline's delayed jobs are SLA deadlines hours away, not work in hand.
        hotline!.getJobCounts('wait', 'active', 'prioritized'),
      ]);
      return sum(s) + sum(e) + sum(h);
    },
    async close() {
      for (const q of [store, evaluate, hotline]) await q!.close();
      redis.disconnect();
    },
  };
}

async function request(method: 'PUT', url: string, body: unknown) {
  const res = await fetch(url, { method, headers: { 'content-type': 'application/json', ...benchAuth }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${(await res.text()).slice(0, 300)}`);
}

/** raised_at of every no-plan alert in the trigger district, by company. */
async function triggerAlerts(apiUrl: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let cursor: string | null = null; ;) {
    const res = await fetch(`${apiUrl}/v1/alerts?rule=no-plan&region=${TRIGGER_DISTRICT}&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { headers: benchAuth });
    const page = await res.json() as { items: Array<{ enterprise_id: string; raised_at: string }>; next_cursor: string | null };
    for (const a of page.items) out.set(a.enterprise_id, Date.parse(a.raised_at));
    cursor = page.next_cursor;
    if (!cursor) return out;
  }
}

class LoadClient {
  private lines: AsyncIterator<string>;
  private constructor(readonly child: ChildProcess, rl: Interface) {
    this.lines = rl[Symbol.asyncIterator]();
  }

  static async start(setup: LoadSetup): Promise<LoadClient> {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'scale-load.ts'), JSON.stringify(setup)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const client = new LoadClient(child, createInterface({ input: child.stdout! }));
    await client.next();
    return client;
  }

  async next<T>(): Promise<T> {
    const { value, done } = await this.lines.next();
    if (done) throw new Error('the load client exited');
    return JSON.parse(value as string) as T;
  }

  async run(plan: StepPlan): Promise<StepReport> {
    this.child.stdin!.write(`${JSON.stringify(plan)}\n`);
    return this.next<StepReport>();
  }

  stop() {
    this.child.stdin!.end();
    this.child.kill();
  }
}

const pct = (values: number[], p: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};
const r1 = (n: number) => Math.round(n * 10) / 10;

interface StepResult {
  rate: number;
  seconds: number;
  accepted: number;
  errors: number;
  statuses: Record<string, number>;
  acceptedPerSecond: number;
  httpMs: StepReport['httpMs'];
  clientLagMs: StepReport['scheduleLagMs'];
  storedAfterS: number | null;
  drainedAfterS: number | null;
  storedPerSecond: number | null;
  evaluatedPerSecond: number | null;
  keptUp: boolean;
  alertLatencyMs: { n: number; missing: number; p50: number; p90: number; p99: number; max: number };
  machineBusyPercent: number;
  /** Busy CPU seconds of the machine not spent by this deployment, the load client or the bench: other users of the machine. */
  otherCpuSeconds: number;
  cpuSeconds: Record<string, number>;
  mainThreadCpuSeconds: Record<string, number>;
}

async function runStep(d: Deployment, q: Queues, load: LoadClient, self: { pid: number; role: string }[], plan: StepPlan): Promise<StepResult> {
  const all = [...d.processes, ...self];
  const before = new Map(all.map((p) => [p.role, cpuOf(p.pid)]));
  const m0 = machine();
  const stored0 = await storedCount(d.metricsUrls);
  const t0 = performance.now();
  const report = await load.run(plan);
  let storedAt: number | null = null;
  let drainedAt: number | null = null;
  const deadline = t0 + plan.seconds * 1000 + DRAIN_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (storedAt === null && (await storedCount(d.metricsUrls)) - stored0 >= report.events) storedAt = performance.now();
    if (storedAt !== null && (await q.busy()) === 0) {
      drainedAt = performance.now();
      break;
    }
    await sleep(200);
  }
  const m1 = machine();
  const cpuSeconds: Record<string, number> = {};
  const mainThreadCpuSeconds: Record<string, number> = {};
  for (const p of all) {
    const [a, b] = [before.get(p.role)!, cpuOf(p.pid)];
    cpuSeconds[p.role] = r1(b.total - a.total);
    mainThreadCpuSeconds[p.role] = r1(b.main - a.main);
  }
  const alerts = await triggerAlerts(d.apiUrls[0]!);
  const latencies: number[] = [];
  let missing = 0;
  for (const [company, sentAt] of Object.entries(report.triggers)) {
    const raised = alerts.get(company);
    if (raised === undefined) missing++;
    else latencies.push(raised - sentAt);
  }
  const storedAfterS = storedAt === null ? null : (storedAt - t0) / 1000;
  const drainedAfterS = drainedAt === null ? null : (drainedAt - t0) / 1000;
  return {
    rate: plan.rate, seconds: plan.seconds, accepted: report.events, errors: report.errors, statuses: report.statuses,
    acceptedPerSecond: Math.round(report.events / report.seconds), httpMs: report.httpMs, clientLagMs: report.scheduleLagMs,
    storedAfterS: storedAfterS === null ? null : r1(storedAfterS), drainedAfterS: drainedAfterS === null ? null : r1(drainedAfterS),
    storedPerSecond: storedAfterS === null ? null : Math.round(report.events / storedAfterS),
    evaluatedPerSecond: drainedAfterS === null ? null : Math.round(report.events / drainedAfterS),
    // The pipeline kept up if it was done within 2 s of the load stopping and nothing was refused.
    keptUp: drainedAfterS !== null && drainedAfterS <= report.seconds + 2 && report.errors === 0,
    alertLatencyMs: {
      n: latencies.length, missing, p50: Math.round(pct(latencies, 50)), p90: Math.round(pct(latencies, 90)),
      p99: Math.round(pct(latencies, 99)), max: Math.round(pct(latencies, 100)),
    },
    machineBusyPercent: Math.round((100 * (m1.busy - m0.busy)) / (m1.total - m0.total)),
    otherCpuSeconds: r1((m1.busy - m0.busy) / TICK_S - Object.values(cpuSeconds).reduce((a, b) => a + b, 0)),
    cpuSeconds, mainThreadCpuSeconds,
  };
}

interface ConfigResult {
  id: string;
  title: string;
  processes: string[];
  startSeconds: number;
  steps: StepResult[];
  /** Where the top step's CPU went, per process, by thread name (live threads at the end). */
  threadsAtEnd: Record<string, Record<string, number>>;
  peakRssMiB: Record<string, number>;
}

async function runConfig(config: (typeof CONFIGS)[number]): Promise<ConfigResult> {
  const dir = mkdtempSync(join(tmpdir(), `qingjian-scale-${config.id}-`));
  const t = Date.now();
  progress(`${config.title}: starting`);
  const d = config.apis === 0 ? await startSingle(dir) : await startScaled(dir, config.apis, config.workers);
  const startSeconds = r1((Date.now() - t) / 1000);
  const q = queuesOf(d);
  let load: LoadClient | null = null;
  try {
    const world = backgroundWorld(SEED);
    const plans = [WARMUP, ...RATES.map((rate, i) => ({ step: i + 1, rate, seconds: SECONDS }))];
    const triggerCompanies = plans.flatMap((p) => Array.from({ length: triggersOf(p, BATCH) }, (_, i) => ({
      enterprise_id: triggerCompany(p.step, i), name: `压测企业${p.step}-${i}`, region: TRIGGER_DISTRICT, credit_grade: 'C' as const,
    })));
    const companies = [...world.enterprises, ...triggerCompanies];
    for (let i = 0; i < companies.length; i += 2000) await request('PUT', `${d.apiUrls[i / 2000 % d.apiUrls.length]}/v1/enterprises`, companies.slice(i, i + 2000));
    await request('PUT', `${d.apiUrls[0]}/v1/agencies`, [...world.agencies, TRIGGER_AGENCY]);
    const events = plans.reduce((n, p) => n + Math.ceil((p.rate * p.seconds) / (BATCH - 1)) * (BATCH - 1), 0);
    load = await LoadClient.start({ urls: d.apiUrls, events, batch: BATCH, seed: SEED });
    const self = [{ role: 'load client', pid: load.child.pid! }, { role: 'bench (polling)', pid: process.pid }];
    progress(`${config.title}: up in ${startSeconds} s (${d.processes.map((p) => `${p.role} ${p.pid}`).join(', ')}); warm-up`);
    await runStep(d, q, load, self, WARMUP);
    const steps: StepResult[] = [];
    for (const plan of plans.slice(1)) {
      const s = await runStep(d, q, load, self, plan);
      steps.push(s);
      progress(`${config.title}: ${plan.rate} events/s offered → accepted ${s.acceptedPerSecond}/s, stored ${s.storedPerSecond ?? '—'}/s, `
        + `evaluated ${s.evaluatedPerSecond ?? '—'}/s, alert p50 ${s.alertLatencyMs.p50} ms p99 ${s.alertLatencyMs.p99} ms, machine ${s.machineBusyPercent}% busy`);
      if (s.drainedAfterS === null) {
        progress(`${config.title}: not drained within ${DRAIN_TIMEOUT_MS / 1000} s after the step; higher rates skipped`);
        break;
      }
    }
    const threadsAtEnd = Object.fromEntries(d.processes.map((p) => [p.role, Object.fromEntries(
      Object.entries(threads(p.pid)).filter(([, s]) => s >= 0.5).sort((a, b) => b[1] - a[1]).slice(0, 8).map(([n, s]) => [n, r1(s)]))]));
    const peakRss = Object.fromEntries(d.processes.map((p) => [p.role, peakRssMiB(p.pid)]));
    return { id: config.id, title: config.title, processes: d.processes.map((p) => p.role), startSeconds, steps, threadsAtEnd, peakRssMiB: peakRss };
  } finally {
    load?.stop();
    await q.close();
    await d.stop();
    if (!flags.keep) rmSync(dir, { recursive: true, force: true });
    else progress(`${config.title}: data and logs kept in ${dir}`);
  }
}

// ---------------------------------------------------------------- report

function printResults(results: ConfigResult[]) {
  console.log(`\nQingjian scale-out benchmark — ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${quick ? 'quick: ' : ''}`
    + `steps ${RATES.join(', ')} events/s × ${SECONDS} s, requests of ${BATCH} events, load client in its own process\n`);
  const rows: Record<string, Record<string, string | number>> = {};
  for (const c of results) {
    for (const s of c.steps) {
      rows[`${c.id} @ ${s.rate}/s`] = {
        'accepted/s': s.acceptedPerSecond,
        'HTTP p50/p99 ms': `${s.httpMs.p50} / ${s.httpMs.p99}`,
        'HTTP→stored /s': s.storedPerSecond ?? '—',
        'HTTP→evaluated /s': s.evaluatedPerSecond ?? '—',
        'drained after s': s.drainedAfterS ?? `> ${s.seconds + DRAIN_TIMEOUT_MS / 1000}`,
        'event→alert p50/p99 ms': `${s.alertLatencyMs.p50} / ${s.alertLatencyMs.p99}`,
        'kept up': s.keptUp ? 'yes' : 'no',
        'machine busy %': s.machineBusyPercent,
        'others CPU s': s.otherCpuSeconds,
        'non-202': s.errors,
      };
    }
  }
  console.table(rows);
  console.log('\nCPU seconds per process over each step (load + drain); [main thread / other threads]. In a Node process the main'
    + ' thread runs the JavaScript (HTTP, validation, BullMQ, rules, JSON); other threads are ClickHouse (chdb) threads, GC and libuv\n');
  const cpuRows: Record<string, Record<string, string>> = {};
  for (const c of results) {
    for (const s of c.steps) {
      const row: Record<string, string> = {};
      let total = 0;
      for (const [role, secs] of Object.entries(s.cpuSeconds)) {
        total += secs;
        row[role] = `${secs} [${s.mainThreadCpuSeconds[role]} / ${r1(secs - s.mainThreadCpuSeconds[role]!)}]`;
      }
      row['total'] = `${r1(total)} (${r1((total / (s.accepted / 1000)))} per 1k events)`;
      cpuRows[`${c.id} @ ${s.rate}/s`] = row;
    }
  }
  for (const [k, row] of Object.entries(cpuRows)) console.log(`${k.padEnd(12)} ${Object.entries(row).map(([r, v]) => `${r}: ${v}`).join(' · ')}`);
  console.log('\nLive threads with ≥ 0.5 CPU s at the end of each deployment (whole run), by thread name'
    + ' (ThreadPool, MergeMutate…: ClickHouse query and merge threads):');
  for (const c of results) {
    for (const [role, t] of Object.entries(c.threadsAtEnd)) console.log(`  ${c.id} ${role}: ${Object.entries(t).map(([n, s]) => `${n} ${s}`).join(', ')}`);
  }
  console.log('\nPeak RSS (MiB): ' + results.map((c) => `${c.id} ${Object.entries(c.peakRssMiB).map(([r, m]) => `${r} ${m}`).join(', ')}`).join(' | '));
  const best = results.map((c) => {
    const kept = c.steps.filter((s) => s.keptUp).map((s) => s.rate);
    const top = c.steps.at(-1);
    return `${c.id}: highest step kept up ${kept.length ? Math.max(...kept) : 'none'} events/s; top step evaluated ${top?.evaluatedPerSecond ?? '—'} events/s`;
  });
  console.log(`\n${best.join('\n')}`);
  console.log(`\nAll processes share the machine's ${cpus().length} cores with each other and with the load client: more processes add`
    + ' parallelism only where a single process leaves cores idle; otherwise they add IPC (HTTP to the shim, Redis round trips) and per-process overhead.');
}

async function main() {
  const results: ConfigResult[] = [];
  for (const config of CONFIGS) results.push(await runConfig(config));
  printResults(results);
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(join(import.meta.dirname, 'results', 'scale.json'), `${JSON.stringify({
    at: new Date().toISOString(), machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    settings: { quick, rates: RATES, seconds: SECONDS, batch: BATCH, warmup: WARMUP, drainTimeoutS: DRAIN_TIMEOUT_MS / 1000 },
    results,
  }, null, 2)}\n`);
  console.log('written bench/results/scale.json');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
