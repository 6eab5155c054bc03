import { enterpriseLock, reconcile, type AlertStore, type Revision } from '../alerts/index.js';
import { withHolidayCalendar } from '../calendar/index.js';
import { groupBy } from '../collections.js';
import type { Delivery } from '../delivery/index.js';
import type { Lease, Locks } from '../redis/lock.js';
import { contextNeeds, evaluateCompany, mergeNeeds, type CompanyEvaluation } from '../rules/engine.js';
import type { ReferenceFacts } from '../reference/index.js';
import type { RuleRegistry } from '../rules/registry.js';
import type { RuleSet } from '../rules/load.js';
import { companyOf } from '../rules/company.js';
import type { EngineEvent } from '../rules/events.js';
import type { Histories } from './histories.js';
import { openWorkerQueue, startQueueWorker, type Change, type QueueWorker, type QueueWorkerSettings } from '../queues/index.js';

export interface EvaluateWorkerOptions extends QueueWorkerSettings {
  /** Companies' events, from this process's memory where it is complete, else from ClickHouse. */
  histories: Histories;
  rules: RuleRegistry;
  alerts: AlertStore;
  locks: Locks;
  /** Companies' facts and agencies' names, remembered until reference data changes. */
  facts: ReferenceFacts;
  concurrency: number;
  /** Companies evaluated under one set of locks and one read. */
  chunk: number;
  /** The way out for what an evaluation decided, taken while the companies are still locked. */
  delivery: Delivery;
}

/** How soon companies that were locked by another evaluation are tried again. */
const BUSY_RETRY_MS = 25;

/**
 * Decides alerts for every stored batch, by event time. For each company a
 * batch touched it takes the events the rules need, evaluates, and reconciles
 * with the stored alerts under the company's lock. Decisions that must wait
 * for late events become delayed jobs at their deadline. Evaluating the same
 * batch twice stores nothing new, so at-least-once delivery is safe.
 */
export function startEvaluateWorker(options: EvaluateWorkerOptions): QueueWorker {
  const { log } = options;
  // Deferred decisions and companies handed back while busy go back into the evaluate queue itself.
  const decisions = openWorkerQueue('evaluate', options);
  const timed = (rule: string, seconds: number) => {
    options.metrics.ruleEvaluations.inc({ rule });
    options.metrics.ruleDuration.observe({ rule }, seconds);
  };

  async function evaluateChunk(changes: readonly Change[], reason: string): Promise<void> {
    const started = performance.now();
    const ids = [...new Set(changes.map((c) => c.enterprise_id))];
    // Companies another evaluation holds are handed back as a new job instead of waiting for them:
    // that evaluation may be slow, and everything else in this chunk is ready now.
    const { revisions, pending, busy } = await options.locks.withFreeLocks(ids.map(enterpriseLock), async (held, lease) => {
      const mine = new Set(held);
      const free = changes.filter((c) => mine.has(enterpriseLock(c.enterprise_id)));
      const decided = free.length > 0 ? await decide(free, [...new Set(free.map((c) => c.enterprise_id))], reason, lease) : { revisions: [], pending: [] };
      return { ...decided, busy: changes.filter((c) => !mine.has(enterpriseLock(c.enterprise_id))) };
    });
    if (busy.length > 0) await decisions.queue.add('batch', { kind: 'batch', changes: busy }, { delay: BUSY_RETRY_MS });
    if (pending.length > 0) {
      await decisions.queue.addBulk(pending.map((p) => ({
        name: 'decide',
        data: { kind: 'decide' as const, enterprise_id: p.enterprise_id, anchor: p.anchor, at: p.at },
        // One delayed job per decision however often it is deferred; ids may not contain ':'.
        opts: { jobId: `decide-${p.enterprise_id}-${p.at}-${p.anchor}`, delay: Math.max(0, p.at - Date.now()) },
      })));
    }
    log.debug({
      companies: ids.length, busy: busy.length, revisions: revisions.length, pending: pending.length, ms: Math.round(performance.now() - started),
    }, 'evaluated');
  }

  /** The companies' facts, then the events they decide to read, then the names of the agencies in those. */
  async function readContext(changes: readonly Change[], ids: string[], { rules, calendar }: RuleSet) {
    const companies = await options.facts.companies(ids);
    const spans = withHolidayCalendar(calendar, () => mergeNeeds(changes.flatMap((c) => contextNeeds(rules, companies.get(c.enterprise_id)?.region ?? c.region ?? '', c))));
    const events = await options.histories.read(ids, spans);
    return { companies, events, names: await options.facts.agencyNames(agenciesIn(events)) };
  }

  async function decide(changes: readonly Change[], ids: string[], reason: string, lease: Lease) {
    // This set, and its holiday calendar, decide the whole batch, even if a reload replaces them while it reads.
    const set = options.rules.current();
    const { rules, calendar } = set;
    // The stored alerts depend on nothing else: read while the context is.
    const [stored, { companies, events, names }] = await Promise.all([options.alerts.forEnterprises(ids), readContext(changes, ids, set)]);
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
    // Another evaluation may have these companies if this one stalled past the locks' TTL: then it decides, not this one.
    lease.ensure();
    return { revisions: await options.delivery.decided(revisions, [...stored.values()]), pending };
  }

  return startQueueWorker('evaluate', async (job) => {
    const data = job.data;
    const changes = data.kind === 'batch'
      ? data.changes
      : [{ enterprise_id: data.enterprise_id, from: data.anchor, to: data.anchor, event_ids: [] }];
    const reason = data.kind === 'batch' ? 'late events changed the evidence' : 'decision due';
    for (let i = 0; i < changes.length; i += options.chunk) {
      await evaluateChunk(changes.slice(i, i + options.chunk), reason);
    }
  }, { ...options, closing: decisions.close });
}

/** The agencies the events name. A loop: over whole histories, copying them into arrays was 3% of the main thread. */
function agenciesIn(events: ReadonlyMap<string, readonly EngineEvent[]>): string[] {
  const ids = new Set<string>();
  for (const own of events.values()) {
    for (const event of own) {
      if (event.agency_id) ids.add(event.agency_id);
      for (const joint of event.joint_agency_ids) if (joint) ids.add(joint);
    }
  }
  return [...ids];
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
