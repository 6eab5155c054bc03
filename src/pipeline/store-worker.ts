import type { Metrics } from '../metrics/index.js';
import type { Storage } from '../storage/index.js';
import { parseRows } from '../storage/tables/query.js';
import { asStored, EngineEventRow, eventRows, insertEvents, type EventInsert } from '../storage/tables/events.js';
import type { Event } from '../ingest/schema.js';
import { createBatcher } from '../batcher.js';
import type { Histories } from './histories.js';
import { fromStoredRow, type EngineEvent } from '../rules/events.js';
import { influence } from '../rules/engine.js';
import { openWorkerQueue, startQueueWorker, type Change, type Envelope, type QueueWorker, type QueueWorkerSettings } from '../queues/index.js';

export interface StoreWorkerOptions extends QueueWorkerSettings {
  storage: Storage;
  concurrency: number;
  batchRows: number;
  batchWaitMs: number;
  /** Counts each company's stored batches, so that evaluating processes know whether their memory of it is complete. */
  histories: Pick<Histories, 'stored'>;
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
  const batcher = createBatcher<EventInsert>({
    maxItems: options.batchRows,
    maxWaitMs: options.batchWaitMs,
    write: async (rows) => {
      const started = performance.now();
      // Read before the insert: a row the engine could not read is refused, not stored unevaluated.
      const byCompany = engineRows(rows);
      await insertEvents(storage, rows);
      // Counted after the insert: a process that reads a count then reads ClickHouse finds every row counted.
      await options.histories.stored(byCompany);
      await evaluations.queue.add('batch', { kind: 'batch', changes: changesOf(byCompany) });
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

/**
 * Per company, the rows as the table will hold them (its defaults for the columns an insert leaves out), read
 * exactly as evaluation will read them back.
 */
export function engineRows(rows: readonly EventInsert[]): Map<string, EngineEvent[]> {
  const byCompany = new Map<string, EngineEvent[]>();
  for (const row of parseRows('events.stored', EngineEventRow, rows.map(asStored))) {
    const event = fromStoredRow(row);
    const own = byCompany.get(event.enterprise_id);
    if (own) own.push(event);
    else byCompany.set(event.enterprise_id, [event]);
  }
  return byCompany;
}

/** Per company: the stored events and the event-time span they can change decisions in. */
export function changesOf(byCompany: ReadonlyMap<string, readonly EngineEvent[]>): Change[] {
  return [...byCompany].map(([enterprise_id, events]) => ({ enterprise_id, ...influence(events), event_ids: events.map((e) => e.id), region: events[0]!.region }));
}

// One observation per event: a batch of 2,000 weighs 2,000 times one lone event.
function observeStoreLag(metrics: Metrics, envelope: Envelope): void {
  const seconds = (Date.now() - Date.parse(envelope.received_at)) / 1000;
  for (let i = 0; i < envelope.events.length; i++) metrics.storeLag.observe(seconds);
}
