import { startQueueWorker, type QueueWorker, type QueueWorkerSettings } from '../queues/index.js';
import { escalate, TransitionError } from './lifecycle.js';
import type { Alert } from './model.js';
import type { AlertOutlet, AlertStore } from './store.js';

/**
 * Escalation timers: an open alert nobody acknowledges within its rule's
 * `escalate_after_minutes` is re-sent one level up, and again after the same
 * time, up to MAX_ESCALATION. Timers are delayed jobs of the `escalation`
 * queue, so they survive restarts; a timer that finds the alert acknowledged
 * or closed does nothing.
 */
export const MAX_ESCALATION = 3;

/** One timer per alert revision that opened or escalated it, however often delivery is retried. */
export function escalationTimer(alert: Alert, afterMs: number, now = Date.now()) {
  return {
    name: 'escalate',
    data: { alert_id: alert.id, escalation: alert.escalation },
    opts: { jobId: `escalate-${alert.id}-r${alert.revision}`, delay: Math.max(0, Date.parse(alert.updated_at) + afterMs - now) },
  };
}

export interface EscalationWorkerOptions extends QueueWorkerSettings {
  alerts: AlertStore;
  /** Where the escalated revision goes: saved and delivered (inside the company's lock). */
  out: AlertOutlet;
}

// Each timer is one alert's read and write.
const CONCURRENCY = 8;

export function startEscalationWorker(options: EscalationWorkerOptions): QueueWorker {
  const { log } = options;
  return startQueueWorker('escalation', async (job) => {
    try {
      const alert = await options.alerts.act(job.data.alert_id, (current) => escalate(current, job.data.escalation, new Date()), options.out);
      if (alert) log.info({ alert: alert.id, rule: alert.rule_id, escalation: alert.escalation }, 'alert escalated');
    } catch (err) {
      if (!(err instanceof TransitionError)) throw err;
    }
  }, { ...options, concurrency: CONCURRENCY });
}
