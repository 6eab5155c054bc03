import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { Envelope, EscalationJob, EvaluateJob, HotlineJob } from './jobs.js';

/**
 * Every BullMQ queue Qingjian runs, in one place: its name, the job it
 * carries, its default job options and its backoff. Queues are opened, worked
 * (./worker.ts), sampled for metrics and upgraded (src/redis/key-layout.ts)
 * from here; a new queue is one entry below and one in QueueJobs.
 *
 * Every queue lives under `<REDIS_PREFIX>:bull`, so several deployments never
 * collide, and its name is a Redis Cluster hash tag (`qj:bull:{store-events}:wait`):
 * BullMQ's scripts touch many keys of one queue at once, which a cluster
 * allows only within one hash slot, while different queues may land on
 * different nodes. Names without the tag (0.1.0 and before) are renamed at
 * start by src/redis/key-layout.ts.
 */
export interface QueueJobs {
  /** Accepted events on their way into the `events` table (src/pipeline/store-worker.ts). */
  store: Envelope;
  /** Rule evaluation of stored batches and deferred decisions (src/pipeline/evaluate-worker.ts). */
  evaluate: EvaluateJob;
  /** Escalation timers of open alerts (src/alerts/escalation.ts). */
  escalation: EscalationJob;
  /** 12345 tickets and their timers (src/hotline/worker.ts). */
  hotline: HotlineJob;
}

export type QueueKey = keyof QueueJobs;

export interface QueueSpec {
  /** The BullMQ queue name, a hash tag. */
  name: string;
  /** The name without its tag, for metric labels and logs (`store-events`). */
  label: string;
  defaultJobOptions: JobsOptions;
  /** The delay before retry `attemptsMade` (the `custom` backoff named in the job options). */
  backoff: (attemptsMade: number) => number;
}

const cappedBackoff = (attemptsMade: number) => Math.min(500 * 2 ** Math.min(attemptsMade, 10), 30_000);

// Accepted events, the decisions they lead to and the timers people rely on must never be dropped: retry with
// a capped backoff for days (a ClickHouse outage just delays them), keep failed jobs for replay, and remove
// completed ones so Redis memory stays bounded.
const DURABLE_JOB_OPTIONS: JobsOptions = {
  attempts: 10_000,
  backoff: { type: 'capped' },
  removeOnComplete: { age: 600, count: 1_000 },
  removeOnFail: false,
};

const durable = (label: string): QueueSpec => ({ name: `{${label}}`, label, defaultJobOptions: DURABLE_JOB_OPTIONS, backoff: cappedBackoff });

export const QUEUES: { readonly [K in QueueKey]: QueueSpec } = {
  store: durable('store-events'),
  evaluate: durable('evaluate-events'),
  escalation: durable('alert-timers'),
  hotline: durable('hotline'),
};

export const QUEUE_KEYS = Object.keys(QUEUES) as QueueKey[];

export const bullPrefix = (redisPrefix: string) => `${redisPrefix}:bull`;

/** A queue to add jobs to (or read), with its registered defaults; the connection stays the caller's. */
export function openQueue<K extends QueueKey>(key: K, connection: ConnectionOptions, redisPrefix: string): Queue<QueueJobs[K]> {
  const spec = QUEUES[key];
  return new Queue<QueueJobs[K]>(spec.name, { connection, prefix: bullPrefix(redisPrefix), defaultJobOptions: spec.defaultJobOptions });
}
