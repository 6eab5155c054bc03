import { DAY, midnight, startOfDay } from '../../calendar/index.js';
import type { ResolvedRule } from '../compile.js';
import type { EngineEvent } from '../events.js';
import type { Verdict } from '../findings.js';
import { boundAt } from '../offsets.js';
import { readableTime } from '../wording.js';
import { UNBOUNDED_LOOKBACK } from './expectation.js';
import { groupBy } from '../../collections.js';
import { isLinkedVisit, planAgencies } from '../plans.js';
import type { Kind, KindInput } from './types.js';

type Rule = Extract<ResolvedRule['spec'], { kind: 'execution' }>;
const spec = (rule: ResolvedRule) => rule.spec as Rule;

/**
 * Plans must be carried out (海曙 確保任務銷號): a plan whose window closed more than `grace` ago with no visit
 * linked to it (isLinkedVisit) is a notice, anchored at the window's last day, one per company and plan.
 * The plan is read in its latest version: a later version moves the window, a cancelled one withdraws the
 * task (the weekly review lists it as cancelled). A visit that syncs late clears the notice.
 */
export const execution: Kind = {
  evaluate(rule, input) {
    const verdict: Verdict = { findings: [], pending: [] };
    const standing = rule.when(spec(rule).detect.plan);
    // Only visits can carry a plan out: looked up by agency, not searched among every event for every plan.
    const visits = groupBy(input.events.filter((e) => (e.type === 'checkin' || e.type === 'inspection') && e.onsite), (e) => e.agency_id);
    for (const versions of input.planVersions().values()) {
      const plan = versions.at(-1)!;
      if (!standing(plan) || plan.window_end === null || plan.window_start === null) continue;
      const anchor = midnight(plan.window_end);
      if (anchor < input.from || anchor > input.to) continue;
      if (planAgencies(plan).some((agency) => (visits.get(agency) ?? []).some((e) => isLinkedVisit(plan, e)))) continue;
      judge(rule, plan, anchor, input, verdict);
    }
    return verdict;
  },
  // A visit can carry out a plan whose window holds its day: anchors (window ends) after it. A new version of a
  // plan can move its window anywhere: the anchor of the window it replaces is decided again too.
  decideRange(_rule, t1, t2, types) {
    const plans = !types || types.includes('plan');
    const visits = plans || types.some((t) => t === 'checkin' || t === 'inspection');
    return [startOfDay(t1 - (plans ? UNBOUNDED_LOOKBACK : 0)), startOfDay(t2 + (visits ? UNBOUNDED_LOOKBACK : 0)) + DAY - 1];
  },
  context(_rule, from, to) {
    return [
      { types: ['plan'], from: from - UNBOUNDED_LOOKBACK, to: to + UNBOUNDED_LOOKBACK },
      { types: ['checkin', 'inspection'], from: from - UNBOUNDED_LOOKBACK, to: to + DAY },
    ];
  },
};

/** A plan with no linked visit: a notice once the grace has passed, a decision deferred until then. */
function judge(rule: ResolvedRule, plan: EngineEvent, anchor: number, input: KindInput, verdict: Verdict): void {
  const { detect } = spec(rule);
  // The first instant after the grace: "closed more than one working day ago".
  const due = boundAt(anchor, detect.grace, 'to') + 1;
  const decideAt = detect.lateness ? boundAt(due, detect.lateness, 'to') : due;
  if (input.now < decideAt) {
    verdict.pending.push({ at: decideAt, anchor });
    return;
  }
  verdict.findings.push({
    key: [plan.enterprise_id, plan.agency_id, plan.plan_id],
    anchor,
    windowStart: midnight(plan.window_start!),
    windowEnd: anchor + DAY - 1,
    variant: '',
    evidence: [{ event: plan, role: 'plan' }],
    figures: { plan_id: plan.plan_id, plan_window: `${plan.window_start} 至 ${plan.window_end}`, due: readableTime(due) },
    agencyFigures: { agencies: planAgencies(plan).map((agency_id) => ({ agency_id, text: '' })) },
    count: 1,
  });
}
