/**
 * The faults, each injected while traffic runs. A fault returns its window
 * (when it started, when the broken part was restored) and the checks only it
 * can make, which are judged once the phase's answers are all in.
 */
import type { Cluster } from './cluster.js';
import type { Ledger } from './traffic.js';
import type { Probe } from './verify.js';

export interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}

export interface FaultSettings {
  /** How long Redis and ClickHouse stay down (the issue says 30 s). */
  outageMs: number;
  /** How long ingest runs against Redis's memory limit. */
  pressureMs: number;
  /** Kills of a worker holding jobs. */
  kills: number;
  lockMs: number;
  stalledIntervalMs: number;
  appendfsync: 'always' | 'everysec';
}

export interface FaultContext {
  cluster: Cluster;
  probe: Probe;
  settings: FaultSettings;
  progress(text: string): void;
  /**
   * For a fault that goes on observing after it gave the broken part back (worker-kill waits to count the jobs the
   * stalled check returns): the part was given back at `at`, so recovery is measured from then, while it observes.
   * A later call replaces an earlier one; without a call, recovery is measured from the window's end once inject returns.
   */
  ended(at: number): void;
}

export interface FaultWindow {
  start: number;
  /** When the broken part was given back (restart issued, limit lifted): recovery is measured from here. */
  end: number;
  notes: string[];
  details: Record<string, unknown>;
  judge(ledger: Ledger): Check[];
}

export interface Fault {
  id: string;
  title: string;
  inject(ctx: FaultContext): Promise<FaultWindow>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const list = (counts: Record<string, number>) => Object.entries(counts).map(([k, v]) => `${k}×${v}`).join(', ') || 'none';

async function until<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** First-attempt answers of requests sent in [from, to], without the 202s. */
function errorsBetween(ledger: Ledger, from: number, to: number): Record<string, number> {
  const { '202': _, ...rest } = ledger.outcomes(from, to);
  return rest;
}

const workerKill: Fault = {
  id: 'worker-kill',
  title: 'SIGKILL a worker mid-batch',
  async inject({ cluster, probe, settings, progress, ended }) {
    const kills: Array<{ worker: string; activeAtKill: number; returned: Record<string, number> }> = [];
    const start = Date.now();
    let end = start;
    const returnedSome = () => kills.filter((k) => Object.values(k.returned).some((n) => n > 0)).length;
    // A kill only counts when the dead worker really held jobs (some came back through the stalled check); try again otherwise.
    for (let attempt = 0; returnedSome() < settings.kills && attempt < settings.kills * 3; attempt++) {
      const worker = cluster.workers[attempt % cluster.workers.length]!;
      const activeAtKill = await until(async () => {
        const n = await probe.activeStoreJobs();
        return n > 0 ? n : undefined;
      }, 30_000, 'a store job in progress');
      const at = Date.now();
      await worker.kill('SIGKILL');
      end = Date.now();
      await worker.start();
      // This may be the last kill: recovery counts from here, not from when the counting below is done.
      ended(end);
      // Its locks lapse after WORKER_LOCK_MS; the next stalled check (every WORKER_STALLED_INTERVAL_MS) returns the jobs.
      await sleep(Math.max(0, at + settings.lockMs + 2 * settings.stalledIntervalMs + 500 - Date.now()));
      const returned = await probe.stalledSince(at);
      kills.push({ worker: worker.name, activeAtKill, returned });
      progress(`  kill ${kills.length}: ${worker.name} SIGKILLed with ${activeAtKill} store job(s) active, restarted; jobs returned by the stalled check: ${list(returned)}`);
    }
    const total = (key: string) => kills.reduce((n, k) => n + (k.returned[key] ?? 0), 0);
    return {
      start, end, details: { kills },
      notes: [
        `${kills.length} SIGKILLs (${returnedSome()} with jobs in hand), each restarted at once; ` +
        `jobs returned after the lock (${seconds(settings.lockMs)}) lapsed: store ${total('store-events')}, evaluate ${total('evaluate-events')}, hotline ${total('hotline')}`,
      ],
      judge: (ledger) => [
        { name: `${settings.kills} kills of a worker holding jobs`, ok: returnedSome() >= settings.kills, detail: `${returnedSome()} of ${kills.length}` },
        { name: 'ingest unaffected (every answer 202)', ok: Object.keys(errorsBetween(ledger, start, Infinity)).length === 0, detail: list(errorsBetween(ledger, start, Infinity)) },
      ],
    };
  },
};

const apiKill: Fault = {
  id: 'api-kill',
  title: 'SIGKILL the API',
  async inject({ cluster, progress }) {
    const start = Date.now();
    await cluster.api.kill('SIGKILL');
    const end = Date.now();
    await cluster.api.start();
    const ready = Date.now();
    progress(`  API SIGKILLed and restarted on the same port; /readyz 200 after ${seconds(ready - start)}`);
    return {
      start, end, details: { downMs: ready - start },
      notes: [`down ${seconds(ready - start)} (restart to /readyz); requests cut off or refused were retried with the same ids`],
      judge: (ledger) => {
        const errors = errorsBetween(ledger, start, ready);
        const fiveXX = Object.keys(errors).filter((k) => k.startsWith('5'));
        return [{ name: 'no 5xx while the API restarts (connections fail, nothing half-answered)', ok: fiveXX.length === 0, detail: list(errors) }];
      },
    };
  },
};

/**
 * While Redis is away ingest must refuse with 503 (never a 500, never a 202 it
 * cannot keep). `outage` is the span Redis was surely down; answers to requests
 * sent around it (until Redis is back plus a moment) may only be 202 or 503.
 */
function redisJudge(outage: { from: number; to: number } | null, around: { from: number; to: number }) {
  return (ledger: Ledger): Check[] => {
    const checks: Check[] = [];
    const aroundErrors = errorsBetween(ledger, around.from, around.to);
    const bad = Object.keys(aroundErrors).filter((k) => k !== '503');
    checks.push({ name: 'only 503 while Redis is away or restarting (no 500)', ok: bad.length === 0, detail: list(aroundErrors) });
    if (outage) {
      const { '202': acked = 0, ...errors } = ledger.outcomes(outage.from, outage.to);
      checks.push({ name: 'ingest answers 503 while Redis is away', ok: (errors['503'] ?? 0) > 0, detail: list(errors) });
      checks.push({ name: 'no 202 while Redis is away', ok: acked === 0, detail: `${acked} acknowledged` });
    }
    return checks;
  };
}

const redisRestart: Fault = {
  id: 'redis-restart',
  title: 'Redis SIGKILLed and restarted',
  async inject({ cluster, settings, progress }) {
    const start = Date.now();
    await cluster.redis.kill('SIGKILL');
    const end = Date.now();
    await cluster.redis.start();
    const back = Date.now();
    progress(`  redis-server SIGKILLed, restarted on the same port and AOF; answering after ${seconds(back - start)}`);
    return {
      start, end, details: { downMs: back - start, appendfsync: settings.appendfsync },
      notes: [`SIGKILL, AOF replayed (appendfsync ${settings.appendfsync}); back after ${seconds(back - start)}`],
      // Too short to require a 503 (the restart takes a fraction of a second); any answer but 202 must be one.
      judge: redisJudge(null, { from: start, to: back + 2_000 }),
    };
  },
};

const redisOutage: Fault = {
  id: 'redis-outage',
  title: 'Redis stopped',
  async inject({ cluster, settings, progress }) {
    const start = Date.now();
    // A stop, not a crash (redis-restart is the crash): SIGTERM, Redis flushes its AOF and exits.
    await cluster.redis.kill('SIGTERM');
    progress(`  redis-server stopped (SIGTERM) for ${seconds(settings.outageMs)}`);
    await sleep(Math.max(0, start + settings.outageMs - Date.now()));
    const end = Date.now();
    await cluster.redis.start();
    const back = Date.now();
    progress(`  redis-server started again on the same port and AOF (${seconds(back - end)})`);
    return {
      start, end, details: { downMs: back - start },
      notes: [`SIGTERM, down ${seconds(back - start)}, same port and AOF`],
      // Requests sent in the first moment may have been answered before Redis went.
      judge: redisJudge({ from: start + 500, to: end }, { from: start, to: back + 2_000 }),
    };
  },
};

const clickhouseOutage: Fault = {
  id: 'clickhouse-outage',
  title: 'ClickHouse unavailable',
  async inject({ cluster, probe, settings, progress }) {
    const start = Date.now();
    await cluster.clickhouse.kill('SIGKILL');
    progress(`  ClickHouse (the chdb HTTP shim) SIGKILLed for ${seconds(settings.outageMs)}`);
    let maxBacklog = 0;
    while (Date.now() < start + settings.outageMs) {
      const b = await probe.backlog();
      if (!b.unknown) maxBacklog = Math.max(maxBacklog, b.store);
      await sleep(Math.min(1_000, Math.max(0, start + settings.outageMs - Date.now())));
    }
    const end = Date.now();
    await cluster.clickhouse.start();
    const back = Date.now();
    progress(`  ClickHouse started again on the same port and data directory (${seconds(back - end)}); store backlog peaked at ${maxBacklog} jobs`);
    return {
      start, end, details: { downMs: back - start, maxStoreBacklog: maxBacklog },
      notes: [`SIGKILL, down ${seconds(back - start)}; up to ${maxBacklog} store jobs waited in Redis`],
      judge: (ledger) => [
        { name: 'ingest keeps accepting (every answer 202)', ok: Object.keys(errorsBetween(ledger, start, back)).length === 0, detail: list(errorsBetween(ledger, start, back)) },
        { name: 'events wait in the queue', ok: maxBacklog > 0, detail: `peak store backlog ${maxBacklog}` },
      ],
    };
  },
};

const redisMemory: Fault = {
  id: 'redis-oom',
  title: 'Redis memory pressure',
  async inject({ cluster, probe, settings, progress }) {
    const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await probe.redis.info('memory'))?.[1]);
    const used = await usedMemory();
    const margin = 256 * 1024;
    // Just above what Redis holds: steady traffic crosses it within a second or two. The limit follows what Redis holds
    // down, so that Redis draining a backlog (the ClickHouse outage's, just before) cannot keep it out of reach: in one
    // run of 2026-12-06 with a limit set once, no request was refused in the whole phase.
    let limit = used + margin;
    await probe.redis.config('SET', 'maxmemory', String(limit));
    const start = Date.now();
    progress(`  maxmemory set to ${(limit / 1048576).toFixed(1)} MiB (used ${(used / 1048576).toFixed(1)} MiB, noeviction) for ${seconds(settings.pressureMs)}`);
    let healthFailures = 0;
    let healthChecks = 0;
    while (Date.now() < start + settings.pressureMs) {
      // The node must stay up: /healthz answers and no process dies (checked by the suite for every fault).
      const ok = await fetch(`${cluster.apiUrl}/healthz`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
      healthChecks++;
      if (!ok) healthFailures++;
      const now = await usedMemory();
      if (now + margin < limit) {
        limit = now + margin;
        await probe.redis.config('SET', 'maxmemory', String(limit));
      }
      await sleep(500);
    }
    await probe.redis.config('SET', 'maxmemory', '0');
    const end = Date.now();
    progress(`  limit lifted (last at ${(limit / 1048576).toFixed(1)} MiB); /healthz failed ${healthFailures} of ${healthChecks} checks under pressure`);
    return {
      start, end, details: { usedBytes: used, limitBytes: limit, healthChecks, healthFailures },
      notes: [`maxmemory = used + 256 KiB, lowered as Redis shrank, for ${seconds(end - start)}, then lifted`],
      judge: (ledger) => {
        const errors = errorsBetween(ledger, start, end);
        const shed = (errors['503'] ?? 0) + (errors['429'] ?? 0);
        const bad = Object.keys(errors).filter((k) => k !== '503' && k !== '429');
        return [
          { name: 'ingest sheds load with 429/503', ok: shed > 0 && bad.length === 0, detail: list(errors) },
          { name: 'API stays up (/healthz)', ok: healthFailures === 0, detail: `${healthFailures} of ${healthChecks} failed` },
        ];
      },
    };
  },
};

export const FAULTS: readonly Fault[] = [workerKill, apiKill, redisRestart, redisOutage, clickhouseOutage, redisMemory];
