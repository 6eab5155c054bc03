import { DAY, calendarDate, midnight, startOfDay } from '../../calendar/index.js';
import type { ResolvedRule } from '../compile.js';
import type { EngineEvent } from '../events.js';
import type { Finding, Verdict } from '../findings.js';
import { boundAt, reachOf } from '../offsets.js';
import { readableTime } from '../wording.js';
import { UNBOUNDED_LOOKBACK } from './expectation.js';
import { planAgencies } from '../plans.js';
import type { Kind, KindInput, Need } from './types.js';
import { timeOf } from './visits.js';

type Rule = Extract<ResolvedRule['spec'], { kind: 'together' }>;
const spec = (rule: ResolvedRule) => rule.spec as Rule;

/**
 * A joint plan's agencies must arrive together (海曙 未同時上門): every agency the plan names (its agency and
 * joint_agency_ids) must arrive at the company within `within` of the first one. An agency's arrival is its
 * earliest event meeting the first `arrival` condition it has any event for (an entry scan, else its on-site
 * record's start), on a day of the plan's window, naming this plan or none. One alert per late or absent
 * agency, anchored at the first arrival's day; an agency still absent when `within` (plus `lateness`) has
 * passed is absent until it comes. A plan nobody came for is not this rule's (plan-not-executed).
 * Reading: a cancelled plan binds nobody from its cancellation on; arrivals before it still count.
 */
export const together: Kind = {
  evaluate(rule, input) {
    const verdict: Verdict = { findings: [], pending: [] };
    const standing = rule.when(spec(rule).detect.plan);
    for (const versions of input.planVersions().values()) {
      const last = versions.at(-1)!;
      const cutoff = last.status === 'cancelled' ? last.occurred_at : Infinity;
      const plan = cutoff === Infinity ? last : versions.filter((v) => v.occurred_at < cutoff).at(-1);
      if (!plan || plan.status === 'cancelled' || !standing(plan)) continue;
      judge(rule, plan, cutoff, input, verdict);
    }
    return verdict;
  },
  // An arrival can move the first arrival of a plan whose window holds it, earlier or later: its anchor. So can
  // a new version of a plan, which may move its window anywhere. Complaints and filings change nothing here.
  decideRange(_rule, t1, t2, types) {
    const reaches = !types || types.some((t) => t === 'plan' || t === 'checkin' || t === 'inspection');
    const reach = reaches ? UNBOUNDED_LOOKBACK : 0;
    return [startOfDay(t1 - reach), startOfDay(t2 + reach) + DAY - 1];
  },
  context(rule, from, to) {
    const { detect } = spec(rule);
    const reach = reachOf(detect.within, 0) + (detect.lateness ? reachOf(detect.lateness, 0) : 0);
    const arrivals = detect.arrival.map((c): Need => ({ types: rule.types(c), from: from - UNBOUNDED_LOOKBACK, to: to + UNBOUNDED_LOOKBACK + reach }));
    return [{ types: ['plan'], from: from - 2 * UNBOUNDED_LOOKBACK, to: to + UNBOUNDED_LOOKBACK }, ...arrivals];
  },
};

function judge(rule: ResolvedRule, plan: EngineEvent, cutoff: number, input: KindInput, verdict: Verdict): void {
  const { detect } = spec(rule);
  const agencies = planAgencies(plan);
  if (agencies.length < 2) return;
  const arrivals = new Map(agencies.map((agency) => [agency, arrivalOf(rule, plan, agency, cutoff, input.events)] as const));
  const present = [...arrivals].filter((a): a is [string, EngineEvent] => a[1] !== null);
  if (present.length === 0) return;
  const [firstAgency, firstEvent] = present.reduce((a, b) => (timeOf(b[1]) < timeOf(a[1]) ? b : a));
  const first = timeOf(firstEvent);
  const anchor = midnight(calendarDate(first));
  if (anchor < input.from || anchor > input.to) return;
  const deadline = boundAt(first, detect.within, 'to');
  const decideAt = detect.lateness ? boundAt(deadline, detect.lateness, 'to') : deadline;
  const who = agencies.map((agency) => {
    const e = arrivals.get(agency);
    return { agency_id: agency, text: e ? ` ${readableTime(timeOf(e))}` : ' 未到场' };
  });
  for (const agency of agencies) {
    const arrived = arrivals.get(agency) ?? null;
    if (arrived && timeOf(arrived) <= deadline) continue;
    if (!arrived && input.now < decideAt) {
      verdict.pending.push({ at: decideAt, anchor });
      continue;
    }
    const late = arrived ? timeOf(arrived) : null;
    const evidence: Finding['evidence'] = [
      ...present.map(([, event]) => ({ event, role: event === arrived ? 'late_arrival' : 'arrival' })),
      { event: plan, role: 'plan' },
    ];
    verdict.findings.push({
      key: [plan.enterprise_id, agency, plan.plan_id],
      anchor,
      windowStart: first,
      windowEnd: Math.max(deadline, late ?? deadline),
      variant: '',
      evidence,
      figures: {
        plan_id: plan.plan_id,
        first_arrival: readableTime(first),
        arrival: late === null ? `截至${readableTime(deadline)}未到场` : `${readableTime(late)}到场`,
        late_minutes: late === null ? null : Math.round((late - first) / 60_000),
        together_by: readableTime(deadline),
      },
      agencyFigures: { first_agency: [{ agency_id: firstAgency, text: '' }], arrivals: who },
      count: 1,
    });
  }
}

/** The agency's arrival for this plan: its earliest event of the first `arrival` condition it has any for. */
function arrivalOf(rule: ResolvedRule, plan: EngineEvent, agency: string, cutoff: number, events: readonly EngineEvent[]): EngineEvent | null {
  for (const condition of spec(rule).detect.arrival) {
    const matches = rule.when(condition);
    let earliest: EngineEvent | null = null;
    for (const e of events) {
      if (e.agency_id !== agency || !matches(e) || !forPlan(plan, e) || timeOf(e) >= cutoff) continue;
      if (!earliest || timeOf(e) < timeOf(earliest)) earliest = e;
    }
    if (earliest) return earliest;
  }
  return null;
}

/** On a day of the plan's window, naming this plan or none. */
function forPlan(plan: EngineEvent, e: EngineEvent): boolean {
  if (e.plan_id !== '' && e.plan_id !== plan.plan_id) return false;
  const day = calendarDate(timeOf(e));
  return plan.window_start !== null && plan.window_end !== null && plan.window_start <= day && day <= plan.window_end;
}
