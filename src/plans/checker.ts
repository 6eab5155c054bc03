import { withHolidayCalendar } from '../calendar/index.js';
import type { RuleRegistry } from '../rules/registry.js';
import type { Storage } from '../storage/index.js';
import { checkPlan } from './check.js';
import type { PlanCheck, PlanUnderCheck } from './model.js';
import { createPlanCheckStore, readCheckContext, readFrom, readPlan, type CheckReads, type PlanCheckStore } from './store.js';

/**
 * Runs the plan check with the live rule set and its holiday calendar: on a
 * draft or a filed plan for the API, and on a filed plan as it stands now,
 * keeping the result (the plan-checks queue, ./worker.ts, decides which).
 */
export interface PlanChecker {
  check(plan: PlanUnderCheck, now?: number): Promise<PlanCheck>;
  /** The latest version of a filed plan, or null. */
  filed(planId: string): Promise<(PlanUnderCheck & { event_id: string }) | null>;
  /**
   * Checks the latest version of a filed plan as seen from these companies (a key range each, rather than a
   * search of every plan) and keeps the result; null for no such plan.
   */
  recheck(planId: string, companies: readonly string[]): Promise<PlanCheck | null>;
  store: PlanCheckStore;
}

/** `reads`: where companies and their events come from (ClickHouse unless the process remembers them). */
export function createPlanChecker(storage: Storage, registry: RuleRegistry, reads: CheckReads = readFrom(storage)): PlanChecker {
  const store = createPlanCheckStore(storage);

  async function check(plan: PlanUnderCheck, now = Date.now()): Promise<PlanCheck> {
    const { rules, policy, calendar } = registry.current();
    const context = await readCheckContext(storage, plan, now, reads);
    const result = withHolidayCalendar(calendar, () => checkPlan({ ...context, plan, rules, policy }));
    // Matters only for the plans the check names as merge candidates: most plans have few or none.
    const named = result.companies.flatMap((c) => c.merge_candidates);
    if (named.length === 0) return result;
    const versions = result.companies.flatMap((c) => {
      const ids = new Set(c.merge_candidates.map((m) => m.event_id));
      return (context.events.get(c.enterprise_id) ?? []).filter((e) => e.type === 'plan' && ids.has(e.id));
    });
    const matters = await reads.matters(versions);
    for (const m of named) m.matters = matters.get(m.event_id) ?? [];
    return result;
  }

  return {
    check,
    filed: (planId) => readPlan(storage, planId),
    store,
    async recheck(planId, companies) {
      const plan = await readPlan(storage, planId, companies, reads);
      if (!plan) return null;
      const result = await check(plan);
      await store.save(result, plan);
      return result;
    },
  };
}
