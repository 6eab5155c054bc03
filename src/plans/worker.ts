import { createHash } from 'node:crypto';
import type { Event } from '../ingest/schema.js';
import { openWorkerQueue, startQueueWorker, type PlanCheckJob, type QueueWorker, type QueueWorkerSettings } from '../queues/index.js';
import type { PlanChecker } from './checker.js';

export interface PlanCheckWorker extends QueueWorker {
  /** Queues a check of every plan among stored events (once per event, however often its batch is retried). */
  enqueueFiled(events: readonly Event[]): Promise<void>;
}

// One check at a time: a check reads a company's year and its neighbours' plans, and must not take the engine's
// share of ClickHouse from storing and evaluating events. Checks are for the coordination office, not the feed.
const CONCURRENCY = 1;

/**
 * Checks filed plans off the events' path: the store worker queues each
 * stored plan version here, and the check (with the re-check of the plans it
 * merges and of its merge candidates) is kept for the coordination view. A
 * check is safe to run twice: its result replaces the plan's last one.
 */
export function startPlanCheckWorker(options: QueueWorkerSettings & { checker: PlanChecker }): PlanCheckWorker {
  const checks = openWorkerQueue('planCheck', options);
  const worker = startQueueWorker('planCheck', (job) => options.checker.recordFiled([job.data]), {
    ...options,
    concurrency: CONCURRENCY,
    closing: () => checks.close(),
  });
  return {
    close: worker.close,
    async enqueueFiled(events) {
      const plans = events.flatMap((e) => (e.type === 'plan' ? [{ id: e.id, job: filedPlan(e) }] : []));
      if (plans.length === 0) return;
      // BullMQ ids may not contain ':', which event ids may: the job id is a digest of the event's.
      await checks.queue.addBulk(plans.map(({ id, job }) => ({ name: 'check', data: job, opts: { jobId: `plan-${digest(id)}` } })));
    },
  };
}

function filedPlan(plan: Extract<Event, { type: 'plan' }>): PlanCheckJob {
  return { plan_id: plan.plan_id ?? plan.id, enterprise_ids: [...new Set(plan.enterprise_ids)], replaces: plan.replaces ?? [] };
}

const digest = (id: string) => createHash('sha256').update(id).digest('hex').slice(0, 32);
