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

  async function recheck(planId: string, companies: readonly string[], now: number): Promise<PlanCheck | null> {
    const plan = await readPlan(storage, planId, companies);
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
      // Each plan (and each plan it merges) as seen from the companies this version names; then the plans they
      // share days with, from the companies they share.
      const touched = new Map<string, Set<string>>();
      const touch = (id: string, companies: readonly string[]) => {
        const set = touched.get(id) ?? new Set<string>();
        for (const c of companies) set.add(c);
        touched.set(id, set);
      };
      for (const p of plans) for (const id of [p.plan_id ?? p.id, ...(p.replaces ?? [])]) touch(id, p.enterprise_ids);
      const neighbours = new Map<string, Set<string>>();
      for (const [id, companies] of touched) {
        const result = await recheck(id, [...companies], now);
        for (const c of result?.companies ?? []) {
          for (const m of c.merge_candidates) if (!touched.has(m.plan_id)) neighbours.set(m.plan_id, (neighbours.get(m.plan_id) ?? new Set()).add(c.enterprise_id));
        }
      }
      for (const [id, companies] of neighbours) await recheck(id, [...companies], now);
      log.debug({ plans: touched.size, neighbours: neighbours.size }, 'plan checks stored');
    },
  };
}
