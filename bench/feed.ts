/**
 * `npm run bench:feed`: the live feed (GET /v1/alerts/stream) under load, on
 * this machine with the embedded engine. Prints a table and writes
 * bench/results/feed.json.
 *
 * 1. Event → alert on a WebSocket client. The service runs in this process (as
 *    `qingjian start` would: API + workers, embedded ClickHouse, its own
 *    redis-server) with the demo world's reference data and plans loaded.
 *    200 clients in 4 child processes (feed-clients.ts) subscribe with no
 *    filters; a child process (feed-load.ts) POSTs 1,000 events/s in requests
 *    of 20 for 60 s, 10% of them check-ins with no plan at fresh companies
 *    (each raises one `no-plan` alert at once), the rest planned visits
 *    (check-in, inspection record, check-out) that raise nothing
 *    (feed-traffic.ts). Latency = when a client received the alert − when its
 *    trigger was POSTed; every client must receive every journal entry of the
 *    run exactly once.
 * 2. 10,000 idle connections. The service runs as a child process
 *    (`node --import tsx src/cli.ts start`, feed-probe.ts preloaded to report
 *    its heap) and 4 child processes open 2,500 subscribed connections each;
 *    RSS and heap of the service before and after.
 *
 *   npm run bench:feed                       # 60 s at 1,000 events/s, 200 clients; 10,000 idle connections
 *   npm run bench:feed -- --quick            # 15 s
 *   npm run bench:feed -- --seconds 30 --clients 100 --idle 5000
 *
 * Flags: --seconds (60; --quick 15), --rate (events/s, 1000), --batch (events per request, 20), --triggers
 * (alert-raising events per request, 2), --clients (200), --client-procs (4), --warmup (seconds, 5),
 * --idle (10000), --idle-procs (4), --companies (demo companies per region, 20000), --seed (1),
 * --skip-live, --skip-idle, --keep (keep the data directories). Any variable of the README's
 * Configuration table can be set for a run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config/index.js';
import { createJournal, type Journal, type StoredEntry } from '../src/feed/index.js';
import { createLogger } from '../src/log.js';
import { bullPrefix, QUEUES } from '../src/queues/index.js';
import { startService, type Service } from '../src/service.js';
import type { ClientResult, ClientsPlan, FromClients, ToClients } from './feed-clients.js';
import type { FromLoad, LoadPhase, ToLoad } from './feed-load.js';
import type { ProbeMemory } from './feed-probe.js';
import { composition, createTraffic, MAX_ROUNDS, type TrafficSpec } from './feed-traffic.js';
import { benchAuth } from './token.js';

// ---------------------------------------------------------------- settings

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string' }, quick: { type: 'boolean' }, rate: { type: 'string' }, batch: { type: 'string' },
    triggers: { type: 'string' }, clients: { type: 'string' }, 'client-procs': { type: 'string' }, warmup: { type: 'string' },
    idle: { type: 'string' }, 'idle-procs': { type: 'string' }, companies: { type: 'string' }, seed: { type: 'string' },
    'skip-live': { type: 'boolean' }, 'skip-idle': { type: 'boolean' }, keep: { type: 'boolean' },
  },
});
const num = (value: string | undefined, fallback: number) => (value === undefined ? fallback : Number(value));
const settings = {
  seconds: num(flags.seconds, flags.quick ? 15 : 60),
  rate: num(flags.rate, 1000),
  batch: num(flags.batch, 20),
  triggersPerBatch: num(flags.triggers, 2),
  clients: num(flags.clients, 200),
  clientProcs: num(flags['client-procs'], 4),
  warmupSeconds: num(flags.warmup, flags.quick ? 3 : 5),
  idle: num(flags.idle, 10_000),
  idleProcs: num(flags['idle-procs'], 4),
  companiesPerRegion: num(flags.companies, 20_000),
  seed: num(flags.seed, 1),
  live: !flags['skip-live'],
  idleRun: !flags['skip-idle'],
  keep: flags.keep ?? false,
};
for (const [name, value] of Object.entries(settings)) {
  if (typeof value === 'number' && !(value >= 0 && Number.isFinite(value))) throw new Error(`bad setting ${name}: ${value}`);
}
const tickMs = (settings.batch / settings.rate) * 1000;
const ROOT = resolve(import.meta.dirname, '..');
const NOFILE = 65535;

// ---------------------------------------------------------------- helpers

const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number | null | undefined) => (n === null || n === undefined || Number.isNaN(n) ? '—' : n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${n.toFixed(n < 100 ? 1 : 0)} ms`);
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));
const progress = (text: string) => console.log(`· ${new Date().toISOString().slice(11, 19)} ${text}`);
const percentile = (sorted: ArrayLike<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

interface Distribution { n: number; min: number; p50: number; p90: number; p99: number; max: number; mean: number }
function distribution(values: ArrayLike<number>): Distribution {
  const sorted = Float64Array.from(values).sort();
  const round = (n: number) => Math.round(n * 10) / 10;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    n: sorted.length, min: round(sorted[0] ?? NaN), p50: round(percentile(sorted, 50)), p90: round(percentile(sorted, 90)), p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? NaN), mean: round(sum / sorted.length),
  };
}

function nofileOf(pid: number | 'self'): string {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  return line ? line.replace(/^Max open files\s+/, '').trim().split(/\s+/).slice(0, 2).join('/') : 'unknown';
}

function vmRss(pid: number): number | null {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return line ? Number(line.split(/\s+/)[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** CPU ticks (user + system) of this process's main thread (the JS event loop) and of the whole machine. */
function cpuTicks() {
  const own = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = own.slice(own.lastIndexOf(')') + 2).split(' ');
  const main = Number(fields[11]) + Number(fields[12]);
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const idle = cpu[3]! + cpu[4]!;
  const total = cpu.reduce((a, b) => a + b, 0);
  return { main, idle, total };
}

function processTicks(pid: number | null): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function redisPid(dataDir: string): number | null {
  try {
    return Number(readFileSync(join(dataDir, 'redis', 'redis.pid'), 'utf8').trim());
  } catch {
    return null;
  }
}

/**
 * A TypeScript child with an IPC channel, started through a shell that raises
 * its open-file limit first (`ulimit -n` is per process and inherited): the
 * soft limit to NOFILE, or to the hard limit if NOFILE is not allowed.
 */
function launch(args: string[], options: { env?: NodeJS.ProcessEnv; stdout?: 'inherit' | 'pipe' } = {}): ChildProcess {
  const script = `ulimit -n ${NOFILE} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`;
  return spawn('/bin/sh', ['-c', script, process.execPath, ...args], {
    cwd: ROOT, env: options.env ?? process.env, stdio: ['ignore', options.stdout ?? 'inherit', 'inherit', 'ipc'], serialization: 'advanced',
  });
}

function nextMessage<T extends { type: string }, K extends T['type']>(child: ChildProcess, type: K, timeoutMs = 600_000): Promise<Extract<T, { type: K }>> {
  return new Promise((resolvePromise, reject) => {
    const onMessage = (m: T) => {
      if (m.type !== type) return;
      cleanup();
      resolvePromise(m as Extract<T, { type: K }>);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`child ${child.pid} exited (${code}) before sending ${type}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`child ${child.pid}: no ${type} within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((r) => {
    const timer = setTimeout(() => r(false), timeoutMs);
    child.once('exit', () => (clearTimeout(timer), r(true)));
  });
}

function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0)).filter((n) => n > 0);
}

/** Setup requests (reference data, plans): retried on a network error, which only delays the setup (ids make retries safe). */
async function send(url: string, method: 'PUT' | 'POST', path: string, body: unknown): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json', ...benchAuth }, body: JSON.stringify(body) }).catch((err: Error) => {
      if (attempt >= 3) throw err;
      console.log(`  (setup ${method} ${path}: ${err.message}${err.cause ? ` (${(err.cause as Error).message})` : ''}; retrying)`);
      return null;
    });
    if (!res) continue;
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${(await res.text()).slice(0, 500)}`);
    return;
  }
}

function queues(redisUrl: string, redisPrefix: string) {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const prefix = bullPrefix(redisPrefix);
  const list = [new Queue(QUEUES.store.name, { connection: redis, prefix }), new Queue(QUEUES.evaluate.name, { connection: redis, prefix })];
  return {
    async busy(): Promise<number> {
      let n = 0;
      for (const q of list) {
        const c = await q.getJobCounts('wait', 'prioritized', 'active');
        n += (c.wait ?? 0) + (c.prioritized ?? 0) + (c.active ?? 0);
      }
      return n;
    },
    async untilIdle(timeoutMs: number): Promise<boolean> {
      const deadline = Date.now() + timeoutMs;
      let quiet = 0;
      while (Date.now() < deadline) {
        // Idle twice in a row: a store job completing enqueues its evaluation a moment later.
        quiet = (await this.busy()) === 0 ? quiet + 1 : 0;
        if (quiet >= 3) return true;
        await sleep(200);
      }
      return false;
    },
    async close() {
      for (const q of list) await q.close();
      redis.disconnect();
    },
  };
}

async function journalBetween(journal: Journal, from: string, to: string): Promise<StoredEntry[]> {
  const out: StoredEntry[] = [];
  let after = from;
  for (;;) {
    const page = await journal.range(after, 10_000);
    for (const e of page) {
      if (compareSeq(e.seq, to) > 0) return out;
      out.push(e);
    }
    if (page.length < 10_000) return out;
    after = page.at(-1)!.seq;
  }
}

function compareSeq(a: string, b: string): number {
  const [am, an] = a.split('-').map(Number) as [number, number];
  const [bm, bn] = b.split('-').map(Number) as [number, number];
  return am === bm ? an - bn : am - bm;
}

// ---------------------------------------------------------------- part 1: event → alert at 200 clients

async function liveRun() {
  const dataDir = mkdtempSync(join(tmpdir(), 'qingjian-bench-feed-'));
  const config = loadConfig({ ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
  const service = await startService(config, { api: true, worker: true }, createLogger('warn'));
  const children: ChildProcess[] = [];
  try {
    return await measureLive(service, config.REDIS_PREFIX, dataDir, children, config);
  } finally {
    for (const child of children) if (child.connected) child.send({ type: 'close' } satisfies ToClients);
    await Promise.all(children.map((c) => exited(c, 5_000)));
    await service.stop();
    if (settings.keep) console.log(`data kept in ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
}

async function measureLive(service: Service, redisPrefix: string, dataDir: string, children: ChildProcess[], config: ReturnType<typeof loadConfig>) {
  const url = service.url!;
  const spec: TrafficSpec = {
    seed: settings.seed, enterprisesPerRegion: settings.companiesPerRegion, batch: settings.batch,
    triggersPerBatch: settings.triggersPerBatch, runId: `fb${Date.now().toString(36)}`,
  };
  const comp = composition(spec);
  const warmRequests = Math.round((settings.warmupSeconds * 1000) / tickMs);
  const measuredRequests = Math.round((settings.seconds * 1000) / tickMs);
  const totalRequests = warmRequests + measuredRequests;
  const traffic = createTraffic(spec);
  const visits = totalRequests * comp.visits;
  if (visits > traffic.eligible.length * MAX_ROUNDS) {
    throw new Error(`${fmt(visits)} visits need more than ${fmt(traffic.eligible.length)} companies × ${MAX_ROUNDS}: raise --companies or lower --seconds`);
  }
  const day = new Date(traffic.day + 8 * 3600_000).toISOString().slice(0, 10);
  progress(`service started in this process (embedded ClickHouse in ${dataDir}, local Redis); loading reference data`);

  // ---- setup (not measured): reference data, plans
  let t = performance.now();
  await send(url, 'PUT', '/v1/agencies', traffic.world.agencies);
  const fresh = Array.from({ length: totalRequests * comp.triggers }, (_, i) => traffic.freshCompany(i));
  const enterprises = [...traffic.world.enterprises, ...fresh];
  for (let i = 0; i < enterprises.length; i += 5000) await send(url, 'PUT', '/v1/enterprises', enterprises.slice(i, i + 5000));
  const plans = traffic.plans(visits);
  for (let i = 0; i < plans.length; i += 500) await send(url, 'POST', '/v1/events', plans.slice(i, i + 500));
  const watch = queues(service.redisUrl, redisPrefix);
  for (;;) {
    const [row] = await service.storage.query<{ n: string }>('SELECT uniqExact(id) AS n FROM events WHERE startsWith(id, {p:String})', { p: `${spec.runId}-p-` });
    if (Number(row!.n) >= plans.length) break;
    await sleep(200);
  }
  await watch.untilIdle(120_000);
  const setupMs = performance.now() - t;
  progress(`reference data: ${fmt(traffic.world.enterprises.length)} demo companies + ${fmt(fresh.length)} fresh ones, ${traffic.world.agencies.length} agencies; ` +
    `${plans.length} plans covering ${fmt(Math.min(visits, traffic.eligible.length))} companies, stored and evaluated (${(setupMs / 1000).toFixed(1)} s); event day ${day}`);

  // ---- clients
  const perProc = split(settings.clients, settings.clientProcs);
  t = performance.now();
  for (const count of perProc) {
    children.push(launch(['--import', 'tsx', join(import.meta.dirname, 'feed-clients.ts'),
      JSON.stringify({ url, count, mode: 'measure', concurrency: 50 } satisfies ClientsPlan)]));
  }
  await Promise.all(children.map((c) => nextMessage<FromClients, 'started'>(c, 'started')));
  const readies = await Promise.all(children.map((c) => {
    const ready = nextMessage<FromClients, 'ready'>(c, 'ready');
    c.send({ type: 'connect' } satisfies ToClients);
    return ready;
  }));
  const connected = readies.reduce((s, r) => s + r.open, 0);
  if (connected !== settings.clients) throw new Error(`only ${connected} of ${settings.clients} clients subscribed: ${readies.map((r) => r.firstError).filter(Boolean)[0]}`);
  progress(`${connected} WebSocket clients subscribed (no filters) from ${perProc.length} processes (${perProc.join(' + ')}), caught up`);

  // ---- load
  const load = launch(['--import', 'tsx', join(import.meta.dirname, 'feed-load.ts'), url, JSON.stringify(spec)]);
  children.push(load);
  await nextMessage<FromLoad, 'ready'>(load, 'ready');
  const runPhase = async (phase: LoadPhase) => {
    const done = nextMessage<FromLoad, 'done'>(load, 'done');
    load.send({ type: 'run', phase } satisfies ToLoad);
    return (await done).report;
  };
  const clientsOnly = children.filter((c) => c !== load);
  const ask = <K extends FromClients['type']>(message: ToClients, type: K) =>
    Promise.all(clientsOnly.map((c) => {
      const answer = nextMessage<FromClients, K>(c, type);
      c.send(message);
      return answer;
    }));

  progress(`warm-up: ${settings.warmupSeconds} s at ${fmt(settings.rate)} events/s (not measured)`);
  const warm = await runPhase({ name: 'warm-up', firstRequest: 0, requests: warmRequests, tickMs });
  await watch.untilIdle(60_000);
  await sleep(1000);

  const measuredTriggers = Array.from({ length: measuredRequests * comp.triggers }, (_, j) => traffic.freshCompany(warmRequests * comp.triggers + j).enterprise_id);
  for (const c of clientsOnly) c.send({ type: 'expect', triggers: measuredTriggers } satisfies ToClients);
  for (const c of clientsOnly) c.send({ type: 'mark' } satisfies ToClients);
  const redis = new Redis(service.redisUrl);
  const journal = createJournal(redis, redisPrefix, { retain: config.FEED_RETAIN, openReader: () => new Redis(service.redisUrl) });
  const fromSeq = (await journal.state()).latest;

  progress(`measuring: ${settings.seconds} s at ${fmt(settings.rate)} events/s, ${settings.batch} events per request ` +
    `(${comp.triggers} no-plan triggers, ${comp.visits} planned visits × 3 events${comp.fillers ? `, ${comp.fillers} check-outs` : ''}), one request every ${tickMs} ms`);
  const rPid = redisPid(dataDir);
  const rss = { peak: 0, peakAtS: 0, peakHeap: 0, peakExternal: 0, samples: 0, redisPeak: 0 };
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss > rss.peak) (rss.peak = m.rss), (rss.peakAtS = Math.round((performance.now() - wallStart) / 100) / 10);
    rss.peakHeap = Math.max(rss.peakHeap, m.heapUsed);
    rss.peakExternal = Math.max(rss.peakExternal, m.external);
    rss.samples++;
    if (rPid) rss.redisPeak = Math.max(rss.redisPeak, vmRss(rPid) ?? 0);
  }, 250);
  const cpuStart = process.cpuUsage();
  const ticksStart = cpuTicks();
  const redisTicksStart = processTicks(rPid);
  const ownPids = [process.pid, ...children.map((c) => c.pid!)];
  const ownTicksStart = ownPids.reduce((sum, pid) => sum + processTicks(pid), 0) + redisTicksStart;
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const wallStart = performance.now();
  const scrapes = scrapeEverySecond(url);
  const report = await runPhase({ name: 'measured', firstRequest: warmRequests, requests: measuredRequests, tickMs });
  const scrapeMs = await scrapes.stop();
  const serviceCpu = process.cpuUsage(cpuStart);
  const loadWallMs = performance.now() - wallStart;
  loopDelay.disable();
  const ticksEnd = cpuTicks();
  const redisCpuPercent = Math.round(((processTicks(rPid) - redisTicksStart) * 10 / loadWallMs) * 100);
  const ownTicks = ownPids.reduce((sum, pid) => sum + processTicks(pid), 0) + processTicks(rPid) - ownTicksStart;
  // Whatever else ran on the machine meanwhile (the benchmark's figures are only as good as the machine was quiet).
  const busyTicks = (ticksEnd.total - ticksStart.total) - (ticksEnd.idle - ticksStart.idle);
  const otherCpuPercent = Math.max(0, Math.round(((busyTicks - ownTicks) * 10 / loadWallMs) * 100));
  // USER_HZ is 100 on Linux: a tick is 10 ms.
  const mainThreadPercent = Math.round(((ticksEnd.main - ticksStart.main) * 10 / loadWallMs) * 100);
  const machineBusyPercent = Math.round((1 - (ticksEnd.idle - ticksStart.idle) / (ticksEnd.total - ticksStart.total)) * 100);
  const eventLoopDelayMs = {
    p50: Math.round(loopDelay.percentile(50) / 1e5) / 10, p99: Math.round(loopDelay.percentile(99) / 1e5) / 10, max: Math.round(loopDelay.max / 1e5) / 10,
  };

  // ---- until every client has every alert (or a minute has passed)
  const expectedCount = report.posted.length;
  const waitStarted = performance.now();
  let last: Array<Extract<FromClients, { type: 'progress' }>> = [];
  for (;;) {
    last = await ask({ type: 'progress' }, 'progress');
    if (last.every((p) => p.minReceived >= expectedCount)) break;
    if (performance.now() - waitStarted > 60_000) break;
    await sleep(100);
  }
  const allReceivedAfterMs = Date.now() - report.sentAt;
  const drained = await watch.untilIdle(60_000);
  await sleep(500);
  clearInterval(sampler);
  const endMemory = process.memoryUsage();
  const toSeq = (await journal.state()).latest;
  const entries = await journalBetween(journal, fromSeq, toSeq);
  const expectedSet = new Set(report.posted.map(([id]) => id));
  const journalByKind: Record<string, number> = {};
  let journalTriggers = 0;
  for (const e of entries) {
    const payload = JSON.parse(e.payload) as { action: string; alert: { enterprise_id: string; rule_id: string; variant: string } };
    if (payload.action === 'raised' && payload.alert.rule_id === 'no-plan' && expectedSet.has(payload.alert.enterprise_id)) journalTriggers++;
    else {
      const kind = `${payload.alert.rule_id}${payload.alert.variant ? `/${payload.alert.variant}` : ''} ${payload.action}`;
      journalByKind[kind] = (journalByKind[kind] ?? 0) + 1;
    }
  }

  const analyses = await Promise.all(clientsOnly.map((c) => {
    const answer = nextMessage<FromClients, 'analysis'>(c, 'analysis');
    c.send({ type: 'analyse', posted: report.posted, journal: entries.map((e) => e.seq), fromSeq, toSeq } satisfies ToClients);
    return answer;
  }));
  await watch.close();
  redis.disconnect();

  const clients: ClientResult[] = analyses.flatMap((a) => a.clients);
  const latencies = new Float64Array(analyses.reduce((s, a) => s + a.latencies.length, 0));
  const fanout = new Float64Array(analyses.reduce((s, a) => s + a.fanout.length, 0));
  let offset = 0;
  let offsetF = 0;
  for (const a of analyses) {
    latencies.set(a.latencies, offset);
    offset += a.latencies.length;
    fanout.set(a.fanout, offsetF);
    offsetF += a.fanout.length;
  }
  const perClientP99 = distribution(clients.map((c) => c.p99));
  const perClientP50 = distribution(clients.map((c) => c.p50));
  const sum = (f: (c: ClientResult) => number) => clients.reduce((s, c) => s + f(c), 0);
  const received = clients.map((c) => c.received);
  const clientCpuMs = analyses.reduce((s, a) => s + a.cpuMs, 0);
  const clientWallMs = Math.max(...analyses.map((a) => a.wallMs));

  return {
    settings: {
      seconds: settings.seconds, warmupSeconds: settings.warmupSeconds, rate: settings.rate, batch: settings.batch, tickMs,
      composition: comp, triggerShare: comp.triggers / settings.batch, clients: settings.clients, clientProcesses: perProc,
      eventDay: day, companies: traffic.world.enterprises.length, freshCompanies: fresh.length, agencies: traffic.world.agencies.length,
      plans: plans.length, storeBatchWaitMs: config.STORE_BATCH_WAIT_MS, ingestCoalesceMs: config.INGEST_COALESCE_MS,
      evaluateConcurrency: config.EVALUATE_CONCURRENCY, feedMaxBufferBytes: config.FEED_MAX_BUFFER_BYTES,
    },
    setupSeconds: Math.round(setupMs / 100) / 10,
    warmup: { events: warm.events, accepted: warm.accepted, errors: warm.errors },
    load: {
      requests: report.requests, ok: report.ok, errors: report.errors, firstError: report.firstError, events: report.events,
      accepted: report.accepted, duplicates: report.duplicates, achievedEventsPerSecond: report.achievedRate,
      httpMs: report.httpMs, tickLagMs: report.lagMs, loadProcessCpuPercent: Math.round((report.cpuMs / loadWallMs) * 100),
    },
    alerts: {
      expected: expectedCount,
      inJournal: entries.length,
      journalTriggers,
      otherJournalEntries: journalByKind,
      receivedPerClient: { min: Math.min(...received), max: Math.max(...received) },
      clientsWithEverything: clients.filter((c) => c.missing === 0 && c.journalMissing === 0 && c.duplicateSeqs === 0 && c.duplicateRevisions === 0 && c.notInJournal === 0 && c.outOfOrder === 0).length,
      missingTotal: sum((c) => c.missing),
      journalMissingTotal: sum((c) => c.journalMissing),
      duplicateSeqsTotal: sum((c) => c.duplicateSeqs),
      duplicateRevisionsTotal: sum((c) => c.duplicateRevisions),
      outOfOrderTotal: sum((c) => c.outOfOrder),
      notInJournalTotal: sum((c) => c.notInJournal),
      closeCodes: analyses.reduce((acc, a) => {
        for (const [k, v] of Object.entries(a.closeCodes)) acc[k] = (acc[k] ?? 0) + v;
        return acc;
      }, {} as Record<string, number>),
      allReceivedSecondsAfterLastPost: Math.round(allReceivedAfterMs / 100) / 10,
      queuesDrained: drained,
    },
    latencyMs: distribution(latencies),
    metricsScrape: { ms: distribution(scrapeMs.durations), bytes: scrapeMs.bytes },
    perClientP50Ms: perClientP50,
    perClientP99Ms: perClientP99,
    postToRaisedMs: distribution(analyses[0]!.pipeline),
    raisedToReceivedMs: distribution(fanout),
    service: {
      peakRssMiB: mib(rss.peak), peakRssAtSeconds: rss.peakAtS, endRssMiB: mib(endMemory.rss), peakHeapUsedMiB: mib(rss.peakHeap), endHeapUsedMiB: mib(endMemory.heapUsed),
      peakExternalMiB: mib(rss.peakExternal),
      cpuPercentOfOneCore: Math.round(((serviceCpu.user + serviceCpu.system) / 1000 / loadWallMs) * 100),
      mainThreadCpuPercent: mainThreadPercent,
      eventLoopDelayMs,
      machineBusyPercent,
      redisPeakRssMiB: rss.redisPeak ? mib(rss.redisPeak) : null,
      redisCpuPercent,
      otherProcessesCpuPercent: otherCpuPercent,
      note: 'RSS of this process: the service (API + workers + embedded ClickHouse) and the benchmark driver, which only waits and samples; Redis is a separate process',
    },
    clientProcesses: { cpuPercentOfOneCore: Math.round((clientCpuMs / clientWallMs) * 100), processes: perProc.length },
  };
}

// What Prometheus would see scraping the loaded service once a second (the issue asks that a scrape stay fast).
function scrapeEverySecond(url: string) {
  const durations: number[] = [];
  let bytes = 0;
  let inFlight: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    inFlight = (async () => {
      const started = performance.now();
      const text = await (await fetch(`${url}/metrics`)).text();
      durations.push(performance.now() - started);
      bytes = text.length;
    })().catch(() => {});
  }, 1000);
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
      return { durations, bytes };
    },
  };
}

// ---------------------------------------------------------------- part 2: 10,000 idle connections

async function idleRun() {
  const dataDir = mkdtempSync(join(tmpdir(), 'qingjian-bench-feed-idle-'));
  const env = { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info' };
  const service = launch(['--expose-gc', '--import', 'tsx', '--import', './bench/feed-probe.ts', 'src/cli.ts', 'start'], { env, stdout: 'pipe' });
  const clients: ChildProcess[] = [];
  const logLevels: Record<string, number> = {};
  const warnings: string[] = [];
  try {
    const url = await new Promise<string>((resolveUrl, reject) => {
      let buffer = '';
      const timer = setTimeout(() => reject(new Error('service child did not start within 120 s')), 120_000);
      service.stdout!.setEncoding('utf8');
      service.stdout!.on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          try {
            const entry = JSON.parse(line) as { level: number; msg: string; url?: string };
            logLevels[entry.level] = (logLevels[entry.level] ?? 0) + 1;
            if (entry.level >= 40 && warnings.length < 5) warnings.push(line.slice(0, 300));
            if (entry.msg === 'qingjian started' && entry.url) {
              clearTimeout(timer);
              resolveUrl(entry.url);
            }
          } catch {
            // not a log line
          }
        }
      });
      service.once('exit', (code) => reject(new Error(`service child exited ${code}`)));
    });
    const pid = service.pid!;
    const probe = async (gc: boolean): Promise<ProbeMemory> => {
      const answer = nextMessage<ProbeMemory, 'memory'>(service, 'memory', 30_000);
      service.send({ type: 'memory', gc });
      return answer;
    };
    // The idle service's RSS moves by tens of MiB on its own (workers, embedded ClickHouse): the median of 5 samples a second apart.
    const memory = async (gc: boolean): Promise<ProbeMemory & { rssRange: number[] }> => {
      const samples: ProbeMemory[] = [];
      for (let i = 0; i < 5; i++) {
        if (i > 0) await sleep(1000);
        samples.push(await probe(gc));
      }
      const median = (key: 'rss' | 'heapUsed' | 'heapTotal' | 'external') => samples.map((m) => m[key]).sort((a, b) => a - b)[2]!;
      const rssRange = [Math.min(...samples.map((m) => m.rss)), Math.max(...samples.map((m) => m.rss))].map(mib);
      return { ...samples.at(-1)!, rss: median('rss'), heapUsed: median('heapUsed'), heapTotal: median('heapTotal'), external: median('external'), rssRange };
    };
    // Kernel TCP buffer memory is not in any RSS: /proc/net/sockstat, machine-wide (both ends of every loopback connection).
    const sockstat = () => {
      const tcp = readFileSync('/proc/net/sockstat', 'utf8').split('\n').find((l) => l.startsWith('TCP:')) ?? '';
      const field = (name: string) => Number(new RegExp(`${name} (\\d+)`).exec(tcp)?.[1] ?? NaN);
      return { inuse: field('inuse'), memMiB: mib(field('mem') * 4096) };
    };
    progress(`service child pid ${pid} at ${url} (node --import tsx src/cli.ts start; open files ${nofileOf(pid)}); settling`);
    for (let i = 0; i < 100 && (await fetch(`${url}/readyz`).then((r) => r.status, () => 0)) !== 200; i++) await sleep(200);
    await sleep(5000);
    const beforeRaw = vmRss(pid);
    const before = await memory(true);
    const socketsBefore = sockstat();

    const perProc = split(settings.idle, settings.idleProcs);
    for (const count of perProc) {
      clients.push(launch(['--import', 'tsx', join(import.meta.dirname, 'feed-clients.ts'),
        JSON.stringify({ url, count, mode: 'idle', concurrency: 64 } satisfies ClientsPlan)]));
    }
    await Promise.all(clients.map((c) => nextMessage<FromClients, 'started'>(c, 'started')));
    progress(`opening ${fmt(settings.idle)} connections from ${perProc.length} processes (${perProc.join(' + ')})`);
    const t = performance.now();
    const readies = await Promise.all(clients.map((c) => {
      const ready = nextMessage<FromClients, 'ready'>(c, 'ready', 300_000);
      c.send({ type: 'connect' } satisfies ToClients);
      return ready;
    }));
    const connectMs = performance.now() - t;
    const open = readies.reduce((s, r) => s + r.open, 0);
    progress(`${fmt(open)} subscribed and caught up in ${(connectMs / 1000).toFixed(1)} s (${readies.reduce((s, r) => s + r.failed, 0)} failed); idling`);
    await sleep(5000);
    const afterRaw = await memory(false);
    const after = await memory(true);
    const socketsAfter = sockstat();
    const statuses = await Promise.all(clients.map((c) => {
      const s = nextMessage<FromClients, 'status'>(c, 'status');
      c.send({ type: 'status' } satisfies ToClients);
      return s;
    }));
    const stillOpen = statuses.reduce((s, x) => s + x.open, 0);
    progress('closing the connections');
    for (const c of clients) c.send({ type: 'close' } satisfies ToClients);
    await Promise.all(clients.map((c) => exited(c, 10_000)));
    await sleep(5000);
    const afterClose = await memory(true);
    const perConn = (a: number, b: number) => (open > 0 ? Math.round(((a - b) / open) * 10) / 10 : null);
    return {
      connections: settings.idle, processes: perProc, opened: open, failed: readies.reduce((s, r) => s + r.failed, 0),
      firstError: readies.map((r) => r.firstError).find(Boolean) ?? null, stillOpenAfterIdle: stillOpen,
      connectSeconds: Math.round(connectMs / 100) / 10, connectionsPerSecond: Math.round(open / (connectMs / 1000)),
      openFileLimit: { service: nofileOf(pid), clients: readies[0]?.nofile ?? 'unknown', benchmark: nofileOf('self') },
      serviceOpenFds: { before: before.openFds, after: after.openFds },
      kernelTcp: { before: socketsBefore, after: socketsAfter },
      afterClose: { rssMiB: mib(afterClose.rss), heapUsedMiB: mib(afterClose.heapUsed), rssRangeMiB: afterClose.rssRange },
      before: { rssRangeMiB: before.rssRange, rssMiB: mib(before.rss), heapUsedMiB: mib(before.heapUsed), heapTotalMiB: mib(before.heapTotal), externalMiB: mib(before.external), vmRssMiB: beforeRaw ? mib(beforeRaw) : null },
      afterNoGc: { rssMiB: mib(afterRaw.rss), heapUsedMiB: mib(afterRaw.heapUsed), heapTotalMiB: mib(afterRaw.heapTotal), externalMiB: mib(afterRaw.external) },
      after: { rssRangeMiB: after.rssRange, rssMiB: mib(after.rss), heapUsedMiB: mib(after.heapUsed), heapTotalMiB: mib(after.heapTotal), externalMiB: mib(after.external), vmHwmMiB: mib(after.vmHwmKiB * 1024) },
      perConnectionKiB: {
        rss: perConn(after.rss / 1024, before.rss / 1024), rssVsAfterClose: perConn(after.rss / 1024, afterClose.rss / 1024), rssNoGc: perConn(afterRaw.rss / 1024, before.rss / 1024),
        heapUsed: perConn(after.heapUsed / 1024, before.heapUsed / 1024), external: perConn(after.external / 1024, before.external / 1024),
      },
      serviceLog: { byLevel: logLevels, firstWarnings: warnings },
      note: 'before/after: process.memoryUsage() of the service child (API + workers + embedded ClickHouse), median of 5 samples 1 s apart, each after a full GC (--expose-gc) unless "NoGc"',
    };
  } finally {
    for (const c of clients) if (c.connected) c.send({ type: 'close' } satisfies ToClients);
    await Promise.all(clients.map((c) => exited(c, 10_000)));
    if (service.exitCode === null) {
      service.kill('SIGTERM');
      if (!(await exited(service, 30_000))) service.kill('SIGKILL');
    }
    if (settings.keep) console.log(`data kept in ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- main

async function main() {
  const wallStarted = performance.now();
  const live = settings.live ? await liveRun() : null;
  if (live) progress('live run done');
  const idle = settings.idleRun ? await idleRun() : null;

  const results = {
    date: new Date().toISOString(),
    command: `npm run bench:feed${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: {
      cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 1024 ** 3), node: process.version,
      kernel: release(), openFileLimit: nofileOf('self'),
    },
    live,
    idle,
    wallSeconds: Math.round((performance.now() - wallStarted) / 1000),
  };

  console.log(`\nQingjian live feed benchmark — ${results.machine.cpus} cores, ${results.machine.memoryGiB} GiB, Node ${process.version}; ${results.command}\n`);
  if (live) {
    const l = live;
    const s = l.settings;
    console.log(`1. Event → alert on a WebSocket client: ${fmt(s.rate)} events/s for ${s.seconds} s (after ${s.warmupSeconds} s warm-up), ${s.batch} events per POST every ${s.tickMs} ms ` +
      `(${s.composition.triggers} no-plan check-ins at fresh companies = ${Math.round(s.triggerShare * 100)}% raising an alert at once; ${s.composition.visits} planned visits × 3 events raising none); ` +
      `${s.clients} clients in ${s.clientProcesses.length} child processes (${s.clientProcesses.join(' + ')}), no filters; service in this process ` +
      `(${fmt(s.companies)} demo companies + ${fmt(s.freshCompanies)} fresh, ${s.agencies} agencies, ${s.plans} plans; STORE_BATCH_WAIT_MS=${s.storeBatchWaitMs}).\n`);
    console.log('| figure | value |');
    console.log('| --- | --- |');
    const row = (k: string, v: string) => console.log(`| ${k} | ${v} |`);
    row('event → client latency, all clients × alerts (n)', fmt(l.latencyMs.n));
    row('p50 / p90 / p99 / max', `${ms(l.latencyMs.p50)} / ${ms(l.latencyMs.p90)} / ${ms(l.latencyMs.p99)} / ${ms(l.latencyMs.max)}`);
    row('per-client p99: best / median / worst client', `${ms(l.perClientP99Ms.min)} / ${ms(l.perClientP99Ms.p50)} / ${ms(l.perClientP99Ms.max)}`);
    row('  of which POST → raised_at (ingest, store batch, evaluation), p50 / p99 / max', `${ms(l.postToRaisedMs.p50)} / ${ms(l.postToRaisedMs.p99)} / ${ms(l.postToRaisedMs.max)}`);
    row('  of which raised_at → client (alert save, journal, fan-out), p50 / p99 / max', `${ms(l.raisedToReceivedMs.p50)} / ${ms(l.raisedToReceivedMs.p99)} / ${ms(l.raisedToReceivedMs.max)}`);
    row('alerts expected (triggers accepted)', fmt(l.alerts.expected));
    row('received per client, min / max', `${fmt(l.alerts.receivedPerClient.min)} / ${fmt(l.alerts.receivedPerClient.max)}`);
    row('clients with every journal entry exactly once, in order', `${l.alerts.clientsWithEverything} of ${s.clients}`);
    row('lost / duplicated / out of order (all clients)', `${fmt(l.alerts.missingTotal + l.alerts.journalMissingTotal)} / ${fmt(l.alerts.duplicateSeqsTotal + l.alerts.duplicateRevisionsTotal)} / ${fmt(l.alerts.outOfOrderTotal)}`);
    row('journal entries in the run (other than the expected alerts)', `${fmt(l.alerts.inJournal)} (${Object.entries(l.alerts.otherJournalEntries).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'})`);
    row('all clients had every alert', `${l.alerts.allReceivedSecondsAfterLastPost} s after the last POST`);
    row('achieved event rate (accepted / errors)', `${fmt(l.load.achievedEventsPerSecond)} events/s (${fmt(l.load.accepted)} / ${l.load.errors})`);
    row('HTTP POST p50 / p99 / max', `${ms(l.load.httpMs.p50)} / ${ms(l.load.httpMs.p99)} / ${ms(l.load.httpMs.max)}`);
    row('service RSS peak / end (heap used peak)', `${l.service.peakRssMiB} / ${l.service.endRssMiB} MiB (${l.service.peakHeapUsedMiB} MiB)`);
    row('service RSS peak external (Buffers)', `${l.service.peakExternalMiB} MiB`);
    row('CPU, % of one core: service (its JS thread) / Redis / client processes / load process; machine busy', `${l.service.cpuPercentOfOneCore}% (${l.service.mainThreadCpuPercent}%) / ${l.service.redisCpuPercent}% / ${l.clientProcesses.cpuPercentOfOneCore}% / ${l.load.loadProcessCpuPercent}%; ${l.service.machineBusyPercent}% of ${cpus().length} cores`);
    row('CPU used by other processes on the machine meanwhile (% of one core)', `${l.service.otherProcessesCpuPercent}%${l.service.otherProcessesCpuPercent > 10 ? ' — the machine was not quiet: figures are pessimistic' : ''}`);
    row('service event-loop delay p50 / p99 / max', `${ms(l.service.eventLoopDelayMs.p50)} / ${ms(l.service.eventLoopDelayMs.p99)} / ${ms(l.service.eventLoopDelayMs.max)}`);
    row(`GET /metrics during the load (${l.metricsScrape.ms.n} scrapes, ${fmt(l.metricsScrape.bytes)} bytes) p50 / p99 / max`, `${ms(l.metricsScrape.ms.p50)} / ${ms(l.metricsScrape.ms.p99)} / ${ms(l.metricsScrape.ms.max)}`);
    row('Redis RSS peak (separate process)', l.service.redisPeakRssMiB === null ? '—' : `${l.service.redisPeakRssMiB} MiB`);
    if (Object.keys(l.alerts.closeCodes).length) row('client connections closed by the server', JSON.stringify(l.alerts.closeCodes));
    console.log('');
  }
  if (idle) {
    const i = idle;
    console.log(`2. ${fmt(i.connections)} idle subscribed connections to one service process (child: node --import tsx src/cli.ts start, API + workers + embedded ClickHouse), ` +
      `clients in ${i.processes.length} processes (${i.processes.join(' + ')}); open-file limit service ${i.openFileLimit.service}, clients ${i.openFileLimit.clients}.\n`);
    console.log(`| figure (service process; median of 5 samples 1 s apart) | before | with ${fmt(i.opened)} open | per connection | after closing them |`);
    console.log('| --- | --- | --- | --- | --- |');
    console.log(`| RSS after a full GC (min–max of the samples) | ${i.before.rssMiB} MiB (${i.before.rssRangeMiB.join('–')}) | ${i.after.rssMiB} MiB (${i.after.rssRangeMiB.join('–')}) | ${i.perConnectionKiB.rss} KiB vs before, ${i.perConnectionKiB.rssVsAfterClose} KiB vs after closing | ${i.afterClose.rssMiB} MiB |`);
    console.log(`| RSS, no GC, after 5 s idle | ${i.before.rssMiB} MiB | ${i.afterNoGc.rssMiB} MiB | ${i.perConnectionKiB.rssNoGc} KiB | |`);
    console.log(`| heap used after a full GC | ${i.before.heapUsedMiB} MiB | ${i.after.heapUsedMiB} MiB | ${i.perConnectionKiB.heapUsed} KiB | ${i.afterClose.heapUsedMiB} MiB |`);
    console.log(`| external (Buffers) | ${i.before.externalMiB} MiB | ${i.after.externalMiB} MiB | ${i.perConnectionKiB.external} KiB | |`);
    console.log(`| open file descriptors | ${i.serviceOpenFds.before} | ${i.serviceOpenFds.after} | | |`);
    console.log(`| kernel TCP memory, machine-wide (both ends; not in RSS) | ${i.kernelTcp.before.memMiB} MiB, ${fmt(i.kernelTcp.before.inuse)} sockets | ${i.kernelTcp.after.memMiB} MiB, ${fmt(i.kernelTcp.after.inuse)} sockets | | |`);
    console.log(`\nConnected ${fmt(i.opened)} of ${fmt(i.connections)} (${i.failed} failed) in ${i.connectSeconds} s (${fmt(i.connectionsPerSecond)}/s, each to caught_up); ` +
      `${fmt(i.stillOpenAfterIdle)} still open after 5 s idle.${i.firstError ? ` First error: ${i.firstError}` : ''}`);
  }
  console.log(`\nWall time ${results.wallSeconds} s. Results in bench/results/feed.json.`);
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(join(import.meta.dirname, 'results', 'feed.json'), `${JSON.stringify(results, null, 2)}\n`);
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
