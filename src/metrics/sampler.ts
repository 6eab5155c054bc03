import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { openQueue, QUEUE_KEYS, QUEUES, type QueueSpec } from '../queues/index.js';
import type { Storage } from '../storage/index.js';
import type { Metrics } from './registry.js';

/** The states that hold work not yet done, plus failed (kept for replay). */
const STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed'] as const;

/**
 * Queue depths and ticket counts cost Redis and ClickHouse round trips, so
 * they are sampled in the background and a scrape only reads memory: it stays
 * fast however busy the backing services are. Returns a stop function.
 */
export function startSampler(options: {
  metrics: Metrics; /** The queues Redis. */ connection: Redis; redisPrefix: string; storage: Storage; everyMs: number; log: Logger;
}): () => Promise<void> {
  const { metrics, log } = options;
  // Every registered queue: workers may be many or none, and their queues are shared.
  const queues = QUEUE_KEYS.map((key) => {
    const queue: Queue = openQueue(key, options.connection, options.redisPrefix);
    queue.on('error', (err) => log.debug({ queue: QUEUES[key].label, err: err.message }, 'queue error'));
    return { spec: QUEUES[key], queue };
  });
  let running: Promise<void> | null = null;
  const sample = async () => {
    const results = await Promise.allSettled([
      ...queues.map(({ spec, queue }) => sampleQueue(metrics, spec, queue)),
      sampleTickets(metrics, options.storage),
    ]);
    for (const r of results) if (r.status === 'rejected') log.debug({ err: (r.reason as Error).message }, 'metrics sample failed; keeping the last values');
  };
  const tick = () => {
    running ??= sample().finally(() => (running = null));
  };
  tick();
  const timer = setInterval(tick, options.everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
    await Promise.all(queues.map(({ queue }) => queue.close().catch(() => {})));
  };
}

async function sampleQueue(metrics: Metrics, { label }: QueueSpec, queue: Queue): Promise<void> {
  const [counts, oldest] = await Promise.all([
    queue.getJobCounts(...STATES),
    queue.getJobs(['waiting', 'prioritized'], 0, 0, true),
  ]);
  for (const state of STATES) metrics.queueJobs.set({ queue: label, state }, counts[state] ?? 0);
  // A delayed job is ready once its delay has passed: its wait starts then, not when it was added.
  const readySince = oldest.map((job) => job.timestamp + (job.delay ?? 0));
  const age = readySince.length > 0 ? Math.max(0, (Date.now() - Math.min(...readySince)) / 1000) : 0;
  metrics.queueOldestAge.set({ queue: label }, age);
}

async function sampleTickets(metrics: Metrics, storage: Storage): Promise<void> {
  const rows = await storage.query<{ state: string; n: number | string }>('SELECT state, count() AS n FROM tickets FINAL GROUP BY state');
  metrics.tickets.reset();
  for (const row of rows) metrics.tickets.set({ state: row.state }, Number(row.n));
}
