import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { Event } from '../ingest/schema.js';

/**
 * The queue layout. Every queue lives under `<REDIS_PREFIX>:bull`, so several
 * deployments never collide, and its name is a Redis Cluster hash tag
 * (`qj:bull:{store-events}:wait`): BullMQ's scripts touch many keys of one
 * queue at once, which a cluster allows only within one hash slot, while
 * different queues may land on different nodes. Names without the tag (0.1.0
 * and before) are renamed at start by src/redis/key-layout.ts.
 */
export const STORE_QUEUE = '{store-events}';
/** Rule evaluation: one job per stored batch, plus delayed decisions at their deadlines. */
export const EVALUATE_QUEUE = '{evaluate-events}';

/** A queue's name without its hash tag, for metric labels and logs (`store-events`). */
export const queueLabel = (name: string) => name.replace(/[{}]/g, '');

/** One accepted request's events (or several coalesced requests'), as validated. */
export interface Envelope {
  received_at: string;
  events: Event[];
}

/** A company whose events changed, and the event-time span they influence (epoch ms). */
export interface Change {
  enterprise_id: string;
  from: number;
  to: number;
  event_ids: string[];
  /** The region the events name: which rules hold for a company not registered yet. */
  region?: string;
  /** The events' types (absent for a deferred decision: then anything may have changed). */
  types?: string[];
}

export type EvaluateJob =
  | { kind: 'batch'; changes: Change[] }
  | { kind: 'decide'; enterprise_id: string; anchor: number; at: number };

export const bullPrefix = (redisPrefix: string) => `${redisPrefix}:bull`;

// Accepted events (and the decisions they lead to) must never be dropped: retry with a capped backoff for days
// (a ClickHouse outage just delays them), keep failed jobs for replay, and
// remove completed ones so Redis memory stays bounded.
export const DURABLE_JOB_OPTIONS: JobsOptions = {
  attempts: 10_000,
  backoff: { type: 'capped' },
  removeOnComplete: { age: 600, count: 1_000 },
  removeOnFail: false,
};

export const cappedBackoff = (attemptsMade: number) => Math.min(500 * 2 ** Math.min(attemptsMade, 10), 30_000);

export function createStoreQueue(connection: ConnectionOptions, redisPrefix: string): Queue<Envelope> {
  return new Queue<Envelope>(STORE_QUEUE, {
    connection,
    prefix: bullPrefix(redisPrefix),
    defaultJobOptions: DURABLE_JOB_OPTIONS,
  });
}

export function createEvaluateQueue(connection: ConnectionOptions, redisPrefix: string): Queue<EvaluateJob> {
  return new Queue<EvaluateJob>(EVALUATE_QUEUE, {
    connection,
    prefix: bullPrefix(redisPrefix),
    defaultJobOptions: DURABLE_JOB_OPTIONS,
  });
}
