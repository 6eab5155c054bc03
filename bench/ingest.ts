/**
 * `npm run bench:ingest`: events/s from HTTP to rows in ClickHouse, HTTP
 * latency, and the service's RSS, on this machine with the embedded engine.
 * The service runs here (as `qingjian start` would); the load comes from a
 * child process. Prints a table and writes bench/results/ingest.json.
 * `--wrk-cpu-prof FILE`: a CPU profile of the service's main thread while wrk
 * runs (what bounds the single-event row; summarise it with bench/profile-summary.ts).
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/index.js';
import { createWorld } from '../src/demo/index.js';
import { createLogger } from '../src/log.js';
import { startService, type Service } from '../src/service.js';
import type { LoadPlan, LoadReport } from './load-client.js';
import { benchAuth } from './token.js';
import { allocator, sampleRss, startCpuProfile, toMiB } from './profilers.js';
import { queueWatch } from './queue-watch.js';
import { sampleEngineMemory } from './engine-memory.js';
import { BODIES_PER_SECOND, wrkEvents } from './wrk.js';

const TARGETS = { batchEventsPerSecond: 20_000, singleRequestsPerSecond: 3_000, singleP99Ms: 50, rssMiB: 1024 };
const scale = Number(process.env.BENCH_SCALE ?? 1);
/** The demo world whose history wrk sends: not the batched (1) or single-event (2) phase's. */
const WRK_SEED = 3;
const { values: flags } = parseArgs({ options: { 'wrk-cpu-prof': { type: 'string' } } });

function runLoad(plan: LoadPlan): Promise<LoadReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'load-client.ts'), JSON.stringify(plan)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadReport) : reject(new Error(`load client exited ${code}`))));
  });
}

async function storedIds(service: Service, prefix: string): Promise<number> {
  const [row] = await service.storage.query<{ n: string }>(
    'SELECT uniqExact(id) AS n FROM events WHERE startsWith(id, {p:String})', { p: `${prefix}-` });
  return Number(row!.n);
}

async function untilStored(service: Service, prefix: string, expected: number): Promise<number> {
  for (;;) {
    // Epoch ms, as the queue watch's drained time is: both end a phase begun at Date.now().
    if ((await storedIds(service, prefix)) >= expected) return Date.now();
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function putEnterprises(url: string, enterprises: readonly unknown[]): Promise<void> {
  const res = await fetch(`${url}/v1/enterprises`, { method: 'PUT', headers: { 'content-type': 'application/json', ...benchAuth }, body: JSON.stringify(enterprises) });
  if (!res.ok) throw new Error(`PUT /v1/enterprises: ${res.status} ${await res.text()}`);
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'qingjian-bench-'));
  const config = loadConfig({ ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
  const service = await startService(config, { api: true, worker: true }, createLogger('warn'));
  const url = service.url!;
  const world = createWorld({ seed: 1, enterprisesPerRegion: 1000 });
  await putEnterprises(url, world.enterprises.slice(0, 5000));

  // Warm-up: JIT, connections, first ClickHouse parts.
  await runLoad({ url, mode: 'batch', events: 20_000, batchSize: 500, concurrency: 4, ratePerSecond: 0, idPrefix: 'warm', seed: 9 });
  await untilStored(service, 'warm', 20_000);

  // Each phase starts once the events before it are evaluated, so that it measures ingest beside its own events'
  // evaluation, not an earlier phase's; the evaluation jobs still there when it starts are printed beside it.
  const queues = queueWatch(service.redisUrl, config.REDIS_PREFIX);
  const drained = async () => {
    const at = await queues.untilDrained(30 * 60_000);
    if (at === null) throw new Error('evaluation did not drain in 30 min');
    return at;
  };
  const backlogNow = async () => queues.backlog(await queues.counts());
  await drained();
  const rss = sampleRss();
  const engine = sampleEngineMemory(service.storage);
  const batchBacklog = await backlogNow();
  const batchEvents = Math.round(300_000 * scale);
  let started = Date.now();
  const batch = await runLoad({ url, mode: 'batch', events: batchEvents, batchSize: 500, concurrency: 4, ratePerSecond: 0, idPrefix: 'batch', seed: 1 });
  const batchStoredAt = await untilStored(service, 'batch', batchEvents);
  const batchRate = batchEvents / ((batchStoredAt - started) / 1000);
  // Issue 17's measure: HTTP → rows stored and evaluated (every evaluation job done, none due within 5 s).
  const batchEvaluatedRate = batchEvents / (((await drained()) - started) / 1000);
  // The peak so far after each phase and its evaluation: which phase the service's peak comes from.
  const peakAfterBatched = rss.peak();
  const splitAfterBatched = { ...rss.breakdown(), engine: await engine.peak() };

  const singleEvents = Math.round(60_000 * scale);
  const singleBacklog = await backlogNow();
  started = Date.now();
  const single = await runLoad({ url, mode: 'single', events: singleEvents, batchSize: 1, concurrency: 0, ratePerSecond: 3_000, idPrefix: 'single', seed: 2 });
  const singleStoredAt = await untilStored(service, 'single', singleEvents);
  await drained();
  const peakAfterSingle = rss.peak();
  const splitAfterSingle = { ...rss.breakdown(), engine: await engine.peak() };
  // Set once the lead is in and evaluated, as wrk starts.
  const wrkStart = { backlog: 0, profiler: null as (() => Promise<unknown>) | null };
  const wrkSeconds = Math.round(20 * scale) || 5;
  // Issue 17's row: what the Node client's single-event phase sends (the history of another demo world), with that
  // world's reference data loaded first, as a platform's companies are known before their events come.
  await putEnterprises(url, createWorld({ seed: WRK_SEED, enterprisesPerRegion: 1000 }).enterprises);
  const wrk = await wrkEvents(url, wrkSeconds, { kind: 'demo', count: wrkSeconds * BODIES_PER_SECOND, seed: WRK_SEED, idPrefix: 'wrk' }, dataDir, {
    // The history's first month of plans goes in batches before wrk starts, as a platform sent it days before.
    afterLead: async () => {
      await drained();
      wrkStart.backlog = await backlogNow();
      if (flags['wrk-cpu-prof']) wrkStart.profiler = await startCpuProfile();
    },
  });
  if (wrkStart.profiler) writeFileSync(flags['wrk-cpu-prof']!, JSON.stringify(await wrkStart.profiler()));
  // Only answered requests store an event: a refused one (non2xx, reported) must not be waited for.
  if (wrk) await untilStored(service, 'wrk', wrk.requests - wrk.non2xx);
  await drained();
  // Every check-in at one company at one minute (what wrk's row measured until 2026-12-07).
  const hotBacklog = await backlogNow();
  const hot = await wrkEvents(url, wrkSeconds, { kind: 'one-company', count: wrkSeconds * BODIES_PER_SECOND, idPrefix: 'wrkhot' }, dataDir);
  if (hot) await untilStored(service, 'wrkhot', hot.requests - hot.non2xx);
  const peakRss = rss.stop();
  const splitAfterWrk = { ...rss.breakdown(), engine: await engine.peak() };
  engine.stop();
  await queues.close();

  const results = {
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    scale,
    batched: {
      events: batchEvents, batchSize: 500, clients: 4, httpErrors: batch.errors,
      eventsPerSecondHttpToRows: Math.round(batchRate), eventsPerSecondHttpToEvaluated: Math.round(batchEvaluatedRate), httpSeconds: batch.seconds,
      httpP50Ms: batch.latencyMs.p50, httpP99Ms: batch.latencyMs.p99, evaluateBacklogAtStart: batchBacklog,
    },
    single: {
      events: singleEvents, targetRps: 3_000, httpErrors: single.errors,
      achievedRps: Math.round(single.requests / single.seconds),
      httpP50Ms: single.latencyMs.p50, httpP99Ms: single.latencyMs.p99, httpMaxMs: single.latencyMs.max,
      lastRowStoredAfterSeconds: Math.round((singleStoredAt - started) / 100) / 10, evaluateBacklogAtStart: singleBacklog,
    },
    singleFromWrk: wrk && { ...wrk, load: `demo history (seed ${WRK_SEED}), its companies' reference data loaded`, evaluateBacklogAtStart: wrkStart.backlog },
    singleFromWrkOneCompany: hot && { ...hot, load: 'one company, one minute', evaluateBacklogAtStart: hotBacklog },
    peakRssMiB: toMiB(peakRss),
    peakRssMiBAfter: { batched: toMiB(peakAfterBatched), single: toMiB(peakAfterSingle), wrk: toMiB(peakRss) },
    peakSplitMiBAfter: { batched: splitAfterBatched, single: splitAfterSingle, wrk: splitAfterWrk },
    allocator: allocator(),
    targets: TARGETS,
  };

  console.log('\nQingjian ingest benchmark (embedded ClickHouse, local Redis, one process)\n');
  console.table({
    'batched 500/request': { 'events/s HTTP→rows': results.batched.eventsPerSecondHttpToRows, 'events/s HTTP→evaluated': results.batched.eventsPerSecondHttpToEvaluated, 'HTTP p50 ms': batch.latencyMs.p50, 'HTTP p99 ms': batch.latencyMs.p99, errors: batch.errors, 'evaluation jobs at start': batchBacklog, target: '≥ 20,000 events/s' },
    'single event/request': { 'events/s HTTP→rows': results.single.achievedRps, 'events/s HTTP→evaluated': '—', 'HTTP p50 ms': single.latencyMs.p50, 'HTTP p99 ms': single.latencyMs.p99, errors: single.errors, 'evaluation jobs at start': singleBacklog, target: '≥ 3,000 req/s, p99 < 50 ms' },
    ...(wrk ? { 'single event, wrk -c32': { 'events/s HTTP→rows': wrk.rps, 'events/s HTTP→evaluated': '—', 'HTTP p50 ms': wrk.p50Ms, 'HTTP p99 ms': wrk.p99Ms, errors: wrk.non2xx, 'evaluation jobs at start': wrkStart.backlog, target: '≥ 3,000 req/s, p99 < 50 ms' } } : {}),
    ...(hot ? { 'the same, one company': { 'events/s HTTP→rows': hot.rps, 'events/s HTTP→evaluated': '—', 'HTTP p50 ms': hot.p50Ms, 'HTTP p99 ms': hot.p99Ms, errors: hot.non2xx, 'evaluation jobs at start': hotBacklog, target: '—' } } : {}),
  });
  console.log("the peak so far after each phase, split (MiB; the engine's own allocator's peaks beside it):");
  console.table(Object.fromEntries(Object.entries(results.peakSplitMiBAfter).map(([phase, { engine: e, ...split }]) => [
    phase, { ...split, 'engine resident': e.residentMiB, 'engine allocated': e.allocatedMiB, 'engine tracked': e.trackedMiB, merges: e.mergesMiB }])));
  if (!wrk) console.log('(install wrk for the single-event figures without the Node load client sharing the cores)');
  console.log(`peak RSS of the service: ${results.peakRssMiB} MiB (target < 1024 MiB; ${allocator()}); the peak so far after batched ${results.peakRssMiBAfter.batched}, single ${results.peakRssMiBAfter.single}, wrk ${results.peakRssMiBAfter.wrk} MiB`);
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(join(import.meta.dirname, 'results', 'ingest.json'), `${JSON.stringify(results, null, 2)}\n`);
  await service.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
