import { withHolidayCalendar } from '../calendar/index.js';
import type { Event } from '../ingest/schema.js';
import type { Logger } from '../log.js';
import type { RuleRegistry } from '../rules/registry.js';
import type { Storage } from '../storage/index.js';
import { checkPlan } from './check.js';
import type { PlanCheck, PlanUnderCheck } from './model.js';
import { createPlanCheckStore, readCheckContext, readMatters, readPlan, type PlanCheckStore } from './store.js';

/**
 * Runs the plan check with the live rule set and its holiday calendar: on a
 * draft or a filed plan for the API, and on every filed plan once stored,
 * keeping the result. A new plan changes its neighbours' merge candidates, and
 * a joint plan withdraws the plans it merges, so those are checked again too.
 */
export interface PlanChecker {
  check(plan: PlanUnderCheck, now?: number): Promise<PlanCheck>;
  /** The latest version of a filed plan, or null. */
  filed(planId: string): Promise<(PlanUnderCheck & { event_id: string }) | null>;
  /** Checks and stores the plans among stored events (and the plans they touch). */
  recordFiled(events: readonly Event[]): Promise<void>;
  store: PlanCheckStore;
}

export function createPlanChecker(storage: Storage, registry: RuleRegistry, log: Logger): PlanChecker {
  const store = createPlanCheckStore(storage);

  async function check(plan: PlanUnderCheck, now = Date.now()): Promise<PlanCheck> {
    const { rules, policy, calendar } = registry.current();
    const context = await readCheckContext(storage, plan, now);
    const result = withHolidayCalendar(calendar, () => checkPlan({ ...context, plan, rules, policy }));
    // Matters only for the plans the check names as merge candidates: most plans have few or none.
    const named = result.companies.flatMap((c) => c.merge_candidates);
    if (named.length === 0) return result;
    const matters = await readMatters(storage, result.companies.filter((c) => c.merge_candidates.length > 0).map((c) => c.enterprise_id), named.map((m) => m.event_id));
    for (const m of named) m.matters = matters.get(m.event_id) ?? [];
    return result;
  }

  async function recheck(planId: string, now: number): Promise<PlanCheck | null> {
    const plan = await readPlan(storage, planId);
    if (!plan) return null;
    const result = await check(plan, now);
    await store.save(result, plan);
    return result;
  }

  return {
    check,
    filed: (planId) => readPlan(storage, planId),
    store,
    async recordFiled(events) {
      const plans = events.filter((e): e is Extract<Event, { type: 'plan' }> => e.type === 'plan');
      if (plans.length === 0) return;
      const now = Date.now();
      const ids = new Set(plans.flatMap((p) => [p.plan_id ?? p.id, ...(p.replaces ?? [])]));
      const neighbours = new Set<string>();
      for (const id of ids) {
        const result = await recheck(id, now);
        for (const c of result?.companies ?? []) for (const m of c.merge_candidates) neighbours.add(m.plan_id);
      }
      for (const id of neighbours) if (!ids.has(id)) await recheck(id, now);
      log.debug({ plans: ids.size, neighbours: neighbours.size }, 'plan checks stored');
    },
  };
}
