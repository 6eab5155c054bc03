import { Queue, Worker } from 'bullmq';
import { enterpriseLock, reconcile, type AlertStore, type Revision } from '../alerts/index.js';
import { withHolidayCalendar } from '../calendar/index.js';
import type { Delivery } from '../delivery/index.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/index.js';
import { workerConnection } from '../redis/connection.js';
import { closeWorker } from './close-worker.js';
import type { Locks } from '../redis/lock.js';
import { contextNeeds, evaluateCompany, mergeNeeds, type CompanyEvaluation } from '../rules/engine.js';
import { readAgencyNames, readCompanies, readEvents } from '../rules/context.js';
import type { RuleRegistry } from '../rules/registry.js';
import { groupBy } from '../rules/kinds/counting.js';
import { companyOf } from '../rules/simulate.js';
import type { Storage } from '../storage/index.js';
import { bullPrefix, cappedBackoff, DURABLE_JOB_OPTIONS, EVALUATE_QUEUE, queueLabel, type Change, type EvaluateJob } from './queues.js';

export interface EvaluateWorkerOptions {
  redisUrl: string;
  redisPrefix: string;
  storage: Storage;
  rules: RuleRegistry;
  alerts: AlertStore;
  locks: Locks;
  log: Logger;
  concurrency: number;
  /** Companies evaluated under one set of locks and one read. */
  chunk: number;
  lockMs: number;
  stalledIntervalMs: number;
  /** Routes what an evaluation decided, and delivers it while the companies are still locked. */
  delivery: Delivery;
  metrics: Metrics;
}

/** How soon companies that were locked by another evaluation are tried again. */
const BUSY_RETRY_MS = 25;

export interface EvaluateWorker {
  close(timeoutMs: number): Promise<void>;
  worker: Worker<EvaluateJob>;
}

/**
 * Decides alerts for every stored batch, by event time. For each company a
 * batch touched it reads the events the rules need, evaluates, and reconciles
 * with the stored alerts under the company's lock. Decisions that must wait
 * for late events become delayed jobs at their deadline. Evaluating the same
 * batch twice stores nothing new, so at-least-once delivery is safe.
 */
export function startEvaluateWorker(options: EvaluateWorkerOptions): EvaluateWorker {
  const { log } = options;
  const connection = workerConnection(options.redisUrl);
  connection.on('error', (err) => log.debug({ err: err.message }, 'evaluate worker redis error'));
  const prefix = bullPrefix(options.redisPrefix);
  const decisionConnection = workerConnection(options.redisUrl);
  decisionConnection.on('error', (err) => log.debug({ err: err.message }, 'decision queue redis error'));
  const decisions = new Queue<EvaluateJob>(EVALUATE_QUEUE, { connection: decisionConnection, prefix });
  decisions.on('error', (err) => log.debug({ err: err.message }, 'decision queue error'));

  const worker = new Worker<EvaluateJob>(
    EVALUATE_QUEUE,
    async (job) => {
      const data = job.data;
      const changes = data.kind === 'batch'
        ? data.changes
        : [{ enterprise_id: data.enterprise_id, from: data.anchor, to: data.anchor, event_ids: [] }];
      const reason = data.kind === 'batch' ? 'late events changed the evidence' : 'decision due';
      for (let i = 0; i < changes.length; i += options.chunk) {
        await evaluateChunk(changes.slice(i, i + options.chunk), reason);
      }
    },
    {
      connection,
      prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockMs,
      stalledInterval: options.stalledIntervalMs,
      maxStalledCount: 1_000,
      settings: { backoffStrategy: cappedBackoff },
    },
  );
  // At zero from the start: a rate over the failures needs the series before the first one.
  options.metrics.jobsFailed.inc({ queue: queueLabel(EVALUATE_QUEUE) }, 0);
  worker.on('failed', (job, err) => {
    options.metrics.jobsFailed.inc({ queue: queueLabel(EVALUATE_QUEUE) });
    log.warn({ job: job?.id, attempts: job?.attemptsMade, err: err.message }, 'evaluation failed; will retry');
  });
  const timed = (rule: string, seconds: number) => {
    options.metrics.ruleEvaluations.inc({ rule });
    options.metrics.ruleDuration.observe({ rule }, seconds);
  };
  worker.on('error', (err) => log.error({ err: err.message }, 'evaluate worker error'));

  async function evaluateChunk(changes: readonly Change[], reason: string): Promise<void> {
    const started = performance.now();
    const ids = [...new Set(changes.map((c) => c.enterprise_id))];
    // Companies another evaluation holds are handed back as a new job instead of waiting for them:
    // that evaluation may be slow, and everything else in this chunk is ready now.
    const { revisions, pending, busy } = await options.locks.withFreeLocks(ids.map(enterpriseLock), async (held) => {
      const mine = new Set(held);
      const free = changes.filter((c) => mine.has(enterpriseLock(c.enterprise_id)));
      const decided = free.length > 0 ? await decide(free, [...new Set(free.map((c) => c.enterprise_id))], reason) : { revisions: [], pending: [] };
      return { ...decided, busy: changes.filter((c) => !mine.has(enterpriseLock(c.enterprise_id))) };
    }, { ttlMs: options.lockMs });
    if (busy.length > 0) await decisions.add('batch', { kind: 'batch', changes: busy }, { ...DURABLE_JOB_OPTIONS, delay: BUSY_RETRY_MS });
    if (pending.length > 0) {
      await decisions.addBulk(pending.map((p) => ({
        name: 'decide',
        data: { kind: 'decide' as const, enterprise_id: p.enterprise_id, anchor: p.anchor, at: p.at },
        // One delayed job per decision however often it is deferred; ids may not contain ':'.
        opts: { jobId: `decide-${p.enterprise_id}-${p.at}-${p.anchor}`, delay: Math.max(0, p.at - Date.now()), ...DURABLE_JOB_OPTIONS },
      })));
    }
    log.debug({
      companies: ids.length, busy: busy.length, revisions: revisions.length, pending: pending.length, ms: Math.round(performance.now() - started),
    }, 'evaluated');
  }

  async function decide(changes: readonly Change[], ids: string[], reason: string) {
    const { storage } = options;
    // This set, and its holiday calendar, decide the whole batch, even if a reload replaces them while it reads.
    const { rules, calendar } = options.rules.current();
    const companies = await readCompanies(storage, ids);
    const spans = withHolidayCalendar(calendar, () => mergeNeeds(changes.flatMap((c) => contextNeeds(rules, companies.get(c.enterprise_id)?.region ?? c.region ?? '', c))));
    const events = await readEvents(storage, ids, spans);
    const agencyIds = [...new Set([...events.values()].flat().flatMap((e) => [e.agency_id, ...e.joint_agency_ids]).filter(Boolean))];
    const [names, stored] = await Promise.all([readAgencyNames(storage, agencyIds), options.alerts.forEnterprises(ids)]);
    const naming = { agencyName: (id: string) => names.get(id) ?? id };
    const storedByCompany = groupBy([...stored.values()], (a) => a.enterprise_id);
    const now = Date.now();
    const revisions: Revision[] = [];
    const pending: Array<CompanyEvaluation['pending'][number] & { enterprise_id: string }> = [];
    for (const change of mergeByCompany(changes)) {
      const company = companyOf(change.enterprise_id, companies, events);
      const result = withHolidayCalendar(calendar, () => evaluateCompany(rules, { company, events: events.get(change.enterprise_id) ?? [], changed: change, now, naming }, timed));
      const own = new Map((storedByCompany.get(change.enterprise_id) ?? []).map((a) => [a.id, a]));
      const why = change.event_ids.length > 0 ? `${reason}: ${change.event_ids.slice(0, 10).join(', ')}` : reason;
      revisions.push(...reconcile(own, result.candidates, result.scopes, new Date(now), why));
      pending.push(...result.pending.map((p) => ({ ...p, enterprise_id: change.enterprise_id })));
    }
    const routed = await options.delivery.route(revisions, stored.values());
    await options.alerts.save(routed);
    await options.delivery.deliver(routed, [...stored.values()]);
    return { revisions: routed, pending };
  }

  return {
    worker,
    async close(timeoutMs) {
      await closeWorker(worker, timeoutMs, log);
      await decisions.close().catch(() => {});
      decisionConnection.disconnect();
      connection.disconnect();
    },
  };
}

function mergeByCompany(changes: readonly Change[]): Change[] {
  const merged = new Map<string, Change>();
  for (const c of changes) {
    const seen = merged.get(c.enterprise_id);
    merged.set(c.enterprise_id, seen
      ? { enterprise_id: c.enterprise_id, from: Math.min(seen.from, c.from), to: Math.max(seen.to, c.to), event_ids: [...seen.event_ids, ...c.event_ids], region: seen.region ?? c.region,
        types: seen.types && c.types ? [...new Set([...seen.types, ...c.types])] : undefined }
      : c);
  }
  return [...merged.values()];
}
