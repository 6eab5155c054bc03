/**
 * Loads a generated history straight into storage (setup for bench:rules and
 * bench:backtest, not measurement): companies and agencies, their homes in
 * Redis when asked, then the demo simulation's events from a child process
 * (history-generator.ts) inserted in large batches, then merged.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { DAY, startOfDay } from '../src/calendar/index.js';
import type { World } from '../src/demo/index.js';
import { createHomes, createReferenceStore } from '../src/reference/index.js';
import type { Storage } from '../src/storage/index.js';
import { EVENTS_PER_VISIT_DAY } from './history.js';
import type { FromHistoryWorker, HistoryJob } from './history-generator.js';

const INSERT_ROWS = 200_000;
const ENTERPRISE_CHUNK = 50_000;
/** How much more event time the generator keeps back for the live phases than they should need. */
const TAIL_MARGIN = 1.5;

/**
 * A history's size from flags or the environment: --events BENCH_EVENTS (5,000,000), --companies
 * BENCH_COMPANIES_PER_REGION (events / 50, so a company has ~17 events a year), --days BENCH_HISTORY_DAYS (365),
 * --seed BENCH_SEED (1).
 */
export function historySettings(flags: { events?: string; companies?: string; days?: string; seed?: string }) {
  const setting = (flag: string | undefined, env: string | undefined, fallback: string) => flag ?? (env || fallback);
  const events = Number(setting(flags.events, process.env.BENCH_EVENTS, '5000000'));
  return {
    events,
    perRegion: Number(setting(flags.companies, process.env.BENCH_COMPANIES_PER_REGION, String(Math.min(100_000, Math.max(1_000, Math.round(events / 50)))))),
    days: Number(setting(flags.days, process.env.BENCH_HISTORY_DAYS, '365')),
    seed: Number(setting(flags.seed, process.env.BENCH_SEED, '1')),
  };
}

export interface HistoryOptions {
  seed: number;
  perRegion: number;
  /** Events wanted in the history, and after it for the live phases. */
  events: number;
  liveWanted: number;
  days: number;
  /** Where the live events' file goes. */
  dir: string;
  /** Write the companies' and agencies' homes to this Redis, as PUT /v1/enterprises and /v1/agencies would. */
  homes?: { redisUrl: string; redisPrefix: string };
}

export interface History {
  from: number;
  /** occurred_at of the first live event: the live phases follow the history. */
  to: number;
  events: number;
  rows: number;
  visitsPerDay: number;
  generateAndInsertMs: number;
  optimizeMs: number;
  referenceMs: number;
  liveFile: string;
  liveEvents: number;
}

/**
 * Generates [now - days, now) with the demo simulation. The last events (as
 * many as the live phases send) are kept for them in a file; the rest, with
 * companies and agencies, goes straight into storage with storage.insert in
 * large batches. Their received_at is their occurred_at, as if they had
 * arrived on time. Then the history is merged (OPTIMIZE ... FINAL), as a year
 * of it would have been by the engine's background merges.
 */
export async function loadHistory(storage: Storage, world: World, options: HistoryOptions): Promise<History> {
  const started = performance.now();
  const reference = createReferenceStore(storage);
  await reference.upsertAgencies(world.agencies);
  for (let i = 0; i < world.enterprises.length; i += ENTERPRISE_CHUNK) {
    await reference.upsertEnterprises(world.enterprises.slice(i, i + ENTERPRISE_CHUNK));
  }
  // Without the homes every live request's companies would be looked up in ClickHouse on first use, as for rows
  // stored before homes were kept in Redis: a migration's cost, not the steady state bench:rules measures.
  if (options.homes) {
    const redis = new Redis(options.homes.redisUrl);
    const homes = createHomes(redis, reference, options.homes.redisPrefix);
    await homes.moved('agency', new Map(world.agencies.map((a) => [a.agency_id, a.region])));
    await homes.moved('enterprise', new Map(world.enterprises.map((e) => [e.enterprise_id, e.region])));
    redis.disconnect();
  }
  const referenceMs = performance.now() - started;

  const now = Date.now();
  const from = startOfDay(now - options.days * DAY);
  const { liveWanted } = options;
  const visitsPerDay = Math.ceil(((options.events + liveWanted) * 1.06) / (EVENTS_PER_VISIT_DAY * options.days));
  const tailDays = Math.ceil((TAIL_MARGIN * liveWanted) / (EVENTS_PER_VISIT_DAY * visitsPerDay)) + 5;
  const job: HistoryJob = {
    seed: options.seed, perRegion: options.perRegion, from, to: now, visitsPerDay, tailFrom: Math.max(from, now - tailDays * DAY),
    liveWanted, liveFile: join(options.dir, 'live-events.ndjson'), batchRows: INSERT_ROWS,
  };
  const generator = fork(join(import.meta.dirname, 'history-generator.ts'), [JSON.stringify(job)], {
    execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced',
  });
  let rows = 0;
  const done = await new Promise<Extract<FromHistoryWorker, { type: 'done' }>>((resolve, reject) => {
    generator.on('message', (message: FromHistoryWorker) => {
      if (message.type === 'done') return resolve(message);
      rows += message.rows.length;
      storage.insert('events', message.rows).then(() => generator.send('ack'), reject);
    });
    generator.once('error', reject);
    generator.once('exit', (code) => reject(new Error(`history generator exited ${code}`)));
  });
  const loadedMs = performance.now() - started - referenceMs;
  const t = performance.now();
  await storage.command('OPTIMIZE TABLE events FINAL');
  return {
    from, to: done.firstLiveAt ?? now, events: done.events, rows, visitsPerDay,
    generateAndInsertMs: loadedMs, optimizeMs: performance.now() - t, referenceMs, liveFile: job.liveFile, liveEvents: done.liveEvents,
  };
}
