import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/index.js';
import { closeWorker } from '../pipeline/close-worker.js';
import { bullPrefix, cappedBackoff, DURABLE_JOB_OPTIONS, queueLabel } from '../pipeline/queues.js';
import { workerConnection } from '../redis/connection.js';
import { escalate, TransitionError, type Revision } from './lifecycle.js';
import type { Alert } from './model.js';
import type { AlertStore } from './store.js';

/**
 * Escalation timers: an open alert nobody acknowledges within its rule's
 * `escalate_after_minutes` is re-sent one level up, and again after the same
 * time, up to MAX_ESCALATION. Timers are delayed BullMQ jobs, so they survive
 * restarts; a timer that finds the alert acknowledged or closed does nothing.
 */
export const ALERT_TIMERS_QUEUE = '{alert-timers}'; // a hash tag: see src/pipeline/queues.ts
export const MAX_ESCALATION = 3;

export interface EscalationJob {
  alert_id: string;
  /** The level the alert must still be at when the timer fires. */
  escalation: number;
}

export function createEscalationQueue(connection: ConnectionOptions, redisPrefix: string): Queue<EscalationJob> {
  return new Queue<EscalationJob>(ALERT_TIMERS_QUEUE, { connection, prefix: bullPrefix(redisPrefix), defaultJobOptions: DURABLE_JOB_OPTIONS });
}

/** One timer per alert revision that opened or escalated it, however often delivery is retried. */
export function escalationTimer(alert: Alert, afterMs: number, now = Date.now()) {
  return {
    name: 'escalate',
    data: { alert_id: alert.id, escalation: alert.escalation },
    opts: { ...DURABLE_JOB_OPTIONS, jobId: `escalate-${alert.id}-r${alert.revision}`, delay: Math.max(0, Date.parse(alert.updated_at) + afterMs - now) },
  };
}

export interface EscalationWorkerOptions {
  redisUrl: string;
  redisPrefix: string;
  alerts: AlertStore;
  log: Logger;
  /** Delivers the escalated revision (inside the company's lock). */
  deliver: (revision: Revision) => Promise<void>;
  metrics: Metrics;
}

export function startEscalationWorker(options: EscalationWorkerOptions) {
  const { log } = options;
  const connection = workerConnection(options.redisUrl);
  connection.on('error', (err) => log.debug({ err: err.message }, 'escalation worker redis error'));
  const worker = new Worker<EscalationJob>(ALERT_TIMERS_QUEUE, async (job) => {
    try {
      const alert = await options.alerts.act(job.data.alert_id, (current) => escalate(current, job.data.escalation, new Date()), options.deliver);
      if (alert) log.info({ alert: alert.id, rule: alert.rule_id, escalation: alert.escalation }, 'alert escalated');
    } catch (err) {
      if (!(err instanceof TransitionError)) throw err;
    }
  }, { connection, prefix: bullPrefix(options.redisPrefix), concurrency: 8, settings: { backoffStrategy: cappedBackoff } });
  worker.on('error', (err) => log.error({ err: err.message }, 'escalation worker error'));
  // At zero from the start: a rate over the failures needs the series before the first one.
  options.metrics.jobsFailed.inc({ queue: queueLabel(ALERT_TIMERS_QUEUE) }, 0);
  worker.on('failed', (job, err) => {
    options.metrics.jobsFailed.inc({ queue: queueLabel(ALERT_TIMERS_QUEUE) });
    log.warn({ job: job?.id, err: err.message }, 'escalation failed; will retry');
  });
  return {
    async close(timeoutMs: number) {
      await closeWorker(worker, timeoutMs, log);
      connection.disconnect();
    },
  };
}
