import type { Metrics } from '../metrics/index.js';
import type { Row, Storage } from '../storage/index.js';
import type { Event } from '../ingest/schema.js';
import { createBatcher } from './batcher.js';
import { eventRows } from './rows.js';
import { fromStoredRow } from '../rules/events.js';
import { influence } from '../rules/engine.js';
import { openWorkerQueue, startQueueWorker, type Change, type Envelope, type QueueWorker, type QueueWorkerSettings } from '../queues/index.js';

export interface StoreWorkerOptions extends QueueWorkerSettings {
  storage: Storage;
  concurrency: number;
  batchRows: number;
  batchWaitMs: number;
  /** Called with a job's events once they are stored, before the job completes: a failure retries the job. */
  onStored?: (events: readonly Event[]) => Promise<unknown>;
}

/**
 * Moves envelopes from Redis into the `events` table. Delivery is
 * at-least-once: a worker killed mid-batch leaves its jobs locked until the
 * lock expires, another worker stores them again, and ReplacingMergeTree
 * folds the repeated rows (reads use FINAL). Each stored batch is handed to
 * rule evaluation before its jobs complete, so no stored event goes unevaluated.
 * Closing flushes the last batch.
 */
export function startStoreWorker(options: StoreWorkerOptions): QueueWorker {
  const { storage, log } = options;
  const evaluations = openWorkerQueue('evaluate', options);
  const batcher = createBatcher<Row>({
    maxItems: options.batchRows,
    maxWaitMs: options.batchWaitMs,
    write: async (rows) => {
      const started = performance.now();
      await storage.insert('events', rows);
      await evaluations.queue.add('batch', { kind: 'batch', changes: changesOf(rows) });
      log.debug({ rows: rows.length, ms: Math.round(performance.now() - started) }, 'stored batch');
    },
  });

  return startQueueWorker('store', async (job) => {
    const rows = job.data.events.flatMap((event) => eventRows(event, job.data.received_at));
    await batcher.add(rows);
    observeStoreLag(options.metrics, job.data);
    await options.onStored?.(job.data.events);
  }, {
    ...options,
    async closing() {
      await batcher.flush().catch((err: Error) => log.warn({ err: err.message }, 'final batch not stored; its jobs will be retried'));
      await evaluations.close();
    },
  });
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
