import { createHash } from 'node:crypto';
import type { Event } from '../ingest/schema.js';
import { Worker } from 'bullmq';
import { openWorkerQueue, startQueueWorker, type PlanCheckJob, type QueueWorker, type QueueWorkerSettings } from '../queues/index.js';
import type { PlanChecker } from './checker.js';

export interface PlanCheckWorker extends QueueWorker {
  /** Queues a check of every plan among stored events, and of the plans a joint plan merges. */
  enqueueFiled(events: readonly Event[]): Promise<void>;
}

// One check at a time: checks are for the coordination office, not the feed, and must not take the main thread's or
// ClickHouse's share from storing and evaluating events (a check reads its companies' year and plans from memory).
const CONCURRENCY = 1;
/** How long checks pause before looking again whether evaluations still wait. */
const YIELD_PAUSE_MS = 250;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Checks filed plans off the events' path and keeps the results for the
 * coordination view. A filed plan is checked, and so is each plan it names as
 * a merge candidate (a new plan changes its neighbours' candidates), and each
 * plan a joint plan merges (withdrawn). A job names a plan and companies, not
 * a version: the check reads the plan as it stands when it runs, so equal
 * requests that wait together are one check (BullMQ deduplication), and one
 * that comes while its check runs is kept for a check after it. A check is
 * safe to run twice: its result replaces the plan's last one. Alerts come
 * before the coordination view: while rule evaluations are waiting, checks
 * wait too (up to `yieldMs` after each was queued), and while evaluations run,
 * checks take at most `sharePercent` of the worker's time.
 */
export function startPlanCheckWorker(options: QueueWorkerSettings & {
  checker: PlanChecker;
  /** Longest a check waits, after it was queued, while evaluation jobs are waiting (PLAN_CHECK_YIELD_MS). */
  yieldMs: number;
  /** Largest share of the worker's time, in percent, that checks take while evaluations run (PLAN_CHECK_SHARE_PERCENT). */
  sharePercent: number;
}): PlanCheckWorker {
  const checks = openWorkerQueue('planCheck', options);
  const evaluations = openWorkerQueue('evaluate', options);
  const enqueue = (jobs: readonly PlanCheckJob[]) => checks.queue.addBulk(jobs.map((job) => ({
    name: 'check',
    data: job,
    opts: { deduplication: { id: dedupId(job), keepLastIfActive: true } },
  })));
  const worker = startQueueWorker('planCheck', async (job) => {
    // Alerts first: under a burst the checks' share of the main thread and of ClickHouse went to evaluations waiting
    // (bench:rules). The job goes back to the queue unchanged, without an attempt counted, and checks pause.
    if (Date.now() - job.timestamp < options.yieldMs && (await evaluations.queue.getWaitingCount()) > 0) {
      await checks.queue.rateLimit(YIELD_PAUSE_MS);
      throw Worker.RateLimitError();
    }
    const started = performance.now();
    await checkAndAskNeighbours(job.data);
    // A check reads from memory, so checks back to back take a whole core: while evaluations run, that doubled the
    // feed's latency and more (bench:feed). Then the worker rests after each check in proportion to it; with no
    // evaluation under way (a backlog of checks after a restore), checks run back to back.
    if (await evaluationsUnderWay()) await sleep((performance.now() - started) * (100 / options.sharePercent - 1));
  }, { ...options, concurrency: CONCURRENCY, closing: async () => { await Promise.all([checks.close(), evaluations.close()]); } });

  async function evaluationsUnderWay(): Promise<boolean> {
    const counts = await evaluations.queue.getJobCounts('active', 'waiting');
    return (counts.active ?? 0) + (counts.waiting ?? 0) > 0;
  }

  async function checkAndAskNeighbours({ plan_id, enterprise_ids, neighbours }: PlanCheckJob): Promise<void> {
    const result = await options.checker.recheck(plan_id, enterprise_ids);
    if (!result || !neighbours) return;
    // Each neighbour as seen from the companies it shares with this plan. Their own checks change only in their
    // candidates: they are not asked to check their neighbours in turn.
    const shared = new Map<string, Set<string>>();
    for (const c of result.companies) {
      for (const m of c.merge_candidates) if (m.plan_id !== plan_id) shared.set(m.plan_id, (shared.get(m.plan_id) ?? new Set()).add(c.enterprise_id));
    }
    await enqueue([...shared].map(([id, companies]) => ({ plan_id: id, enterprise_ids: [...companies].sort(), neighbours: false })));
  }
  return {
    close: worker.close,
    async enqueueFiled(events) {
      // Each plan (and each plan it merges) as seen from the companies this version names.
      const jobs = events.flatMap((e) => (e.type !== 'plan' ? [] : [e.plan_id ?? e.id, ...(e.replaces ?? [])].map((plan_id) => ({
        plan_id, enterprise_ids: [...new Set(e.enterprise_ids)].sort(), neighbours: true,
      }))));
      if (jobs.length > 0) await enqueue(jobs);
    },
  };
}

/** Requests for the same check share an id: the plan, its companies, and whether neighbours follow. */
function dedupId(job: PlanCheckJob): string {
  const companies = createHash('sha256').update(job.enterprise_ids.join(',')).digest('hex').slice(0, 24);
  return `${job.plan_id}:${companies}:${job.neighbours ? 'n' : '-'}`;
}
