import { Worker } from 'bullmq';
import { workerConnection } from '../redis/connection.js';
import { closeWorker } from './close-worker.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/index.js';
import type { Row, Storage } from '../storage/index.js';
import type { Event } from '../ingest/schema.js';
import { createBatcher } from './batcher.js';
import { eventRows } from './rows.js';
import { fromStoredRow } from '../rules/events.js';
import { influence } from '../rules/engine.js';
import { bullPrefix, cappedBackoff, createEvaluateQueue, queueLabel, STORE_QUEUE, type Change, type Envelope } from './queues.js';

export interface StoreWorkerOptions {
  redisUrl: string;
  redisPrefix: string;
  storage: Storage;
  log: Logger;
  concurrency: number;
  batchRows: number;
  batchWaitMs: number;
  lockMs: number;
  stalledIntervalMs: number;
  metrics: Metrics;
  /** Called with a job's events once they are stored, before the job completes: a failure retries the job. */
  onStored?: (events: readonly Event[]) => Promise<unknown>;
}

export interface StoreWorker {
  /** Stops taking jobs, lets active ones finish (bounded by timeoutMs), flushes. */
  close(timeoutMs: number): Promise<void>;
  worker: Worker<Envelope>;
}

/**
 * Moves envelopes from Redis into the `events` table. Delivery is
 * at-least-once: a worker killed mid-batch leaves its jobs locked until the
 * lock expires, another worker stores them again, and ReplacingMergeTree
 * folds the repeated rows (reads use FINAL). Each stored batch is handed to
 * rule evaluation before its jobs complete, so no stored event goes unevaluated.
 */
export function startStoreWorker(options: StoreWorkerOptions): StoreWorker {
  const { storage, log } = options;
  const evaluationConnection = workerConnection(options.redisUrl);
  evaluationConnection.on('error', (err) => log.debug({ err: err.message }, 'evaluate queue redis error'));
  const evaluations = createEvaluateQueue(evaluationConnection, options.redisPrefix);
  evaluations.on('error', (err) => log.debug({ err: err.message }, 'evaluate queue error'));
  const batcher = createBatcher<Row>({
    maxItems: options.batchRows,
    maxWaitMs: options.batchWaitMs,
    write: async (rows) => {
      const started = performance.now();
      await storage.insert('events', rows);
      await evaluations.add('batch', { kind: 'batch', changes: changesOf(rows) });
      log.debug({ rows: rows.length, ms: Math.round(performance.now() - started) }, 'stored batch');
    },
  });

  const connection = workerConnection(options.redisUrl);
  connection.on('error', (err) => log.debug({ err: err.message }, 'worker redis error'));
  const worker = new Worker<Envelope>(
    STORE_QUEUE,
    async (job) => {
      const rows = job.data.events.flatMap((event) => eventRows(event, job.data.received_at));
      await batcher.add(rows);
      observeStoreLag(options.metrics, job.data);
      await options.onStored?.(job.data.events);
    },
    {
      connection,
      prefix: bullPrefix(options.redisPrefix),
      concurrency: options.concurrency,
      lockDuration: options.lockMs,
      stalledInterval: options.stalledIntervalMs,
      // A job may be orphaned by several crashes in a row; it must come back every time.
      maxStalledCount: 1_000,
      settings: { backoffStrategy: cappedBackoff },
    },
  );
  // At zero from the start: a rate over the failures needs the series before the first one.
  options.metrics.jobsFailed.inc({ queue: queueLabel(STORE_QUEUE) }, 0);
  worker.on('failed', (job, err) => {
    options.metrics.jobsFailed.inc({ queue: queueLabel(STORE_QUEUE) });
    log.warn({ job: job?.id, attempts: job?.attemptsMade, err: err.message }, 'store job failed; will retry');
  });
  worker.on('error', (err) => log.error({ err: err.message }, 'store worker error'));

  return {
    worker,
    async close(timeoutMs) {
      await closeWorker(worker, timeoutMs, log);
      await batcher.flush().catch((err: Error) => log.warn({ err: err.message }, 'final batch not stored; its jobs will be retried'));
      await evaluations.close().catch(() => {});
      evaluationConnection.disconnect();
      connection.disconnect();
    },
  };
}

/** Per company: the stored events and the event-time span they can change decisions in. */
function changesOf(rows: readonly Row[]): Change[] {
  const byCompany = new Map<string, ReturnType<typeof fromStoredRow>[]>();
  for (const row of rows) {
    const event = fromStoredRow(row as Parameters<typeof fromStoredRow>[0]);
    const own = byCompany.get(event.enterprise_id);
    if (own) own.push(event);
    else byCompany.set(event.enterprise_id, [event]);
  }
  return [...byCompany].map(([enterprise_id, events]) => ({ enterprise_id, ...influence(events), event_ids: events.map((e) => e.id), region: events[0]!.region }));
}

// One observation per event: a batch of 2,000 weighs 2,000 times one lone event.
function observeStoreLag(metrics: Metrics, envelope: Envelope): void {
  const seconds = (Date.now() - Date.parse(envelope.received_at)) / 1000;
  for (let i = 0; i < envelope.events.length; i++) metrics.storeLag.observe(seconds);
}
