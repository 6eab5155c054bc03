import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, type Job, type Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { createMetrics } from '../src/metrics/index.js';
import { bullPrefix, openQueue, QUEUE_KEYS, QUEUES, startQueueWorker, type QueueKey } from '../src/queues/index.js';
import { startLocalRedis, type LocalRedis } from '../src/redis/local-server.js';
import { eventually } from './support/service.js';

/**
 * The queue registry and its worker, on a real redis-server. A crashed
 * worker leaves its job active with a lock that nobody renews; it is
 * simulated here by deleting the lock while the job runs, so the stall check
 * finds the job orphaned exactly as after a crash.
 */
let server: LocalRedis;
let redis: Redis;
const dir = mkdtempSync(join(tmpdir(), 'qingjian-queues-'));

beforeAll(async () => {
  server = await startLocalRedis({ dir });
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const LOCK_MS = 1_000;
const STALLED_INTERVAL_MS = 200;

/** A processor whose first `crashes` runs are orphaned: the lock vanishes and the run never ends (until `release`). */
function crashingTwice(redisPrefix: string, key: QueueKey) {
  let runs = 0;
  let release!: () => void;
  const hung = new Promise<void>((resolve) => (release = resolve));
  const processor = async (job: Job) => {
    runs++;
    if (runs > 2) return;
    await redis.del(`${bullPrefix(redisPrefix)}:${QUEUES[key].name}:${job.id}:lock`);
    await hung;
  };
  return { processor, runs: () => runs, release };
}

function settled(queue: Queue, id: string): Promise<string> {
  return eventually(async () => {
    const state = await queue.getJobState(id);
    return state === 'completed' || state === 'failed' ? state : undefined;
  }, 20_000, `job ${id} to complete or fail`);
}

describe('queues', () => {
  it('every queue is hash-tagged, durable and retried with its backoff', () => {
    expect(QUEUE_KEYS.map((key) => QUEUES[key].name)).toEqual(['{store-events}', '{evaluate-events}', '{alert-timers}', '{hotline}']);
    for (const key of QUEUE_KEYS) {
      const spec = QUEUES[key];
      expect(spec.name).toBe(`{${spec.label}}`);
      expect(spec.defaultJobOptions).toMatchObject({ attempts: 10_000, removeOnFail: false, backoff: { type: 'capped' } });
      expect([0, 3, 20].map(spec.backoff)).toEqual([500, 4_000, 30_000]);
    }
  });

  it('a job orphaned by two crashes in a row comes back and runs (escalation timers as much as events)', async () => {
    const redisPrefix = 'orphaned';
    const queue = openQueue('escalation', redis, redisPrefix);
    const metrics = createMetrics({ role: 'worker', version: 'test' });
    const crashing = crashingTwice(redisPrefix, 'escalation');
    const worker = startQueueWorker('escalation', crashing.processor, {
      redisUrl: server.url, redisPrefix, lockMs: LOCK_MS, stalledIntervalMs: STALLED_INTERVAL_MS, metrics, log: createLogger('silent'), concurrency: 4,
    });
    try {
      const job = await queue.add('escalate', { alert_id: 'a1', escalation: 0 }, { jobId: 'orphaned-twice' });
      // The queue's registered defaults apply to every job added to it.
      expect(job.opts).toMatchObject({ attempts: 10_000, removeOnFail: false });
      expect(await settled(queue, job.id!)).toBe('completed');
      expect(crashing.runs()).toBe(3);
    } finally {
      crashing.release();
      await worker.close(2_000);
      await queue.close();
    }
  });

  // What the escalation worker did before it was started like the others: BullMQ's defaults give up on the second stall.
  it('with BullMQ’s default stall settings the same job fails', async () => {
    const redisPrefix = 'defaults';
    const queue = openQueue('escalation', redis, redisPrefix);
    const crashing = crashingTwice(redisPrefix, 'escalation');
    const connection = new Redis(server.url, { maxRetriesPerRequest: null });
    const worker = new Worker(QUEUES.escalation.name, crashing.processor, {
      connection, prefix: bullPrefix(redisPrefix), concurrency: 4, lockDuration: LOCK_MS, stalledInterval: STALLED_INTERVAL_MS,
    });
    worker.on('error', () => {});
    try {
      const job = await queue.add('escalate', { alert_id: 'a1', escalation: 0 }, { jobId: 'orphaned-twice' });
      expect(await settled(queue, job.id!)).toBe('failed');
      expect(crashing.runs()).toBe(2);
    } finally {
      crashing.release();
      await worker.close(true);
      await queue.close();
      connection.disconnect();
    }
  });
});
