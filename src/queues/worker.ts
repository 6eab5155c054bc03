import { Worker, type Processor, type Queue } from 'bullmq';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/registry.js';
import { workerConnection } from '../redis/connection.js';
import { bullPrefix, openQueue, QUEUES, type QueueJobs, type QueueKey } from './registry.js';

/** What every worker shares: where its queue is, how long a job stays its own, what it reports to. */
export interface QueueWorkerSettings {
  /** The queues Redis. */
  redisUrl: string;
  redisPrefix: string;
  /** A job's lock: a worker that dies mid-job loses it after this long, and another worker takes the job. */
  lockMs: number;
  /** How often workers look for jobs whose lock expired (stalled). */
  stalledIntervalMs: number;
  metrics: Metrics;
  log: Logger;
}

export interface QueueWorker {
  /** Stops taking jobs, lets active ones finish (bounded by timeoutMs), then runs the worker's own `closing` and disconnects. */
  close(timeoutMs: number): Promise<void>;
}

/**
 * Works one registered queue with `processor`. Jobs are delivered at least
 * once: a job orphaned by a crash returns when its lock expires, as often as
 * crashes repeat, and a failed attempt is retried with the queue's backoff,
 * counted in `qingjian_queue_jobs_failed_total` and logged.
 */
export function startQueueWorker<K extends QueueKey>(
  key: K,
  processor: Processor<QueueJobs[K]>,
  options: QueueWorkerSettings & { concurrency: number; closing?: () => Promise<void> },
): QueueWorker {
  const { log } = options;
  const spec = QUEUES[key];
  const connection = workerConnection(options.redisUrl);
  connection.on('error', (err) => log.debug({ queue: spec.label, err: err.message }, 'worker redis error'));
  const worker = new Worker<QueueJobs[K]>(spec.name, processor, {
    connection,
    prefix: bullPrefix(options.redisPrefix),
    concurrency: options.concurrency,
    lockDuration: options.lockMs,
    stalledInterval: options.stalledIntervalMs,
    // A job may be orphaned by several crashes in a row; it must come back every time.
    maxStalledCount: 1_000,
    settings: { backoffStrategy: spec.backoff },
  });
  // At zero from the start: a rate over the failures needs the series before the first one.
  options.metrics.jobsFailed.inc({ queue: spec.label }, 0);
  worker.on('failed', (job, err) => {
    options.metrics.jobsFailed.inc({ queue: spec.label });
    log.warn({ queue: spec.label, job: job?.id, attempts: job?.attemptsMade, err: err.message }, 'job failed; will retry');
  });
  worker.on('error', (err) => log.error({ queue: spec.label, err: err.message }, 'worker error'));
  return {
    async close(timeoutMs) {
      await closeWorker(worker, timeoutMs, log);
      await options.closing?.();
      connection.disconnect();
    },
  };
}

/** A queue a worker adds jobs to, on a connection of its own that waits out a Redis restart as the worker's does. */
export function openWorkerQueue<K extends QueueKey>(key: K, settings: Pick<QueueWorkerSettings, 'redisUrl' | 'redisPrefix' | 'log'>) {
  const label = QUEUES[key].label;
  const connection = workerConnection(settings.redisUrl);
  connection.on('error', (err) => settings.log.debug({ queue: label, err: err.message }, 'queue redis error'));
  const queue: Queue<QueueJobs[K]> = openQueue(key, connection, settings.redisPrefix);
  queue.on('error', (err) => settings.log.debug({ queue: label, err: err.message }, 'queue error'));
  return {
    queue,
    async close() {
      await queue.close().catch(() => {});
      connection.disconnect();
    },
  };
}

/**
 * `worker.close()` waits for active jobs with no limit of its own. Past the
 * timeout, unfinished jobs keep their lock and return to the queue when it
 * expires, so nothing is lost; the forced close is not awaited either, since
 * with Redis gone it would wait for ever.
 */
async function closeWorker(worker: Worker, timeoutMs: number, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const finished = await Promise.race([
    worker.close().then(() => true),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (!finished) {
    log.warn({ worker: worker.name, timeoutMs }, 'worker did not finish in time; forcing close');
    void worker.close(true).catch(() => {});
  }
}
