import { DAY, addDays, midnight } from '../../calendar/index.js';
import type { ResolvedRule } from '../compile.js';
import type { EngineEvent } from '../events.js';
import type { Finding, Verdict } from '../findings.js';
import { mergedAway } from '../plans.js';
import type { Kind } from './types.js';

type Rule = Extract<ResolvedRule['spec'], { kind: 'overlap' }>;
const spec = (rule: ResolvedRule) => rule.spec as Rule;

/**
 * How far apart a plan's filing and the alerts it can change may lie: plans are filed at most this far ahead
 * (absence's unbounded lookback), and an edit may move a window by as much.
 */
const PLAN_REACH = 400 * DAY;

/** A plan as it stands now: its latest version, and when the plan was first filed. */
export interface StandingPlan {
  plan_id: string;
  version: EngineEvent;
  first_filed: number;
}

/**
 * Plans of one company whose date windows share at least one day and that are
 * not one plan (烟台 云匹配: "合并同一段时间内针对同一对象的多次检查"): two
 * agencies, one agency twice, or two levels. Plans are read as they stand at
 * the evaluation (latest version filed; a cancelled plan, or one merged into a
 * joint plan through `replaces`, is withdrawn), so a cancellation or a merge
 * clears the alert. One alert per pair of plans, anchored when the later of the
 * two was first filed (an edit of either window updates it, it does not raise a
 * new one).
 */
export const overlap: Kind = {
  evaluate(rule, input) {
    const verdict: Verdict = { findings: [], pending: [] };
    const plans = standingPlans(input.events, input.now).filter((p) => rule.when(spec(rule).detect.match)(p.version));
    plans.sort((a, b) => a.first_filed - b.first_filed || (a.plan_id < b.plan_id ? -1 : 1));
    for (let i = 0; i < plans.length; i++) {
      for (let j = i + 1; j < plans.length; j++) {
        const finding = pairFinding(plans[i]!, plans[j]!);
        if (finding && finding.anchor >= input.from && finding.anchor <= input.to) verdict.findings.push(finding);
      }
    }
    return verdict;
  },
  decideRange(_rule, t1, t2, types) {
    // Only plans make or unmake an overlap; a visit changes nothing.
    if (types && !types.includes('plan')) return [Infinity, -Infinity];
    return [t1 - PLAN_REACH, t2 + PLAN_REACH];
  },
  context(rule, from, to) {
    if (from > to) return [];
    return [{ types: rule.types(spec(rule).detect.match) ?? ['plan'], from: from - PLAN_REACH, to: to + PLAN_REACH }];
  },
};

/** Every plan of these events as it stands at `now`, withdrawn ones (cancelled or merged away) left out. */
export function standingPlans(events: readonly EngineEvent[], now: number): StandingPlan[] {
  const filed = events.filter((e) => e.type === 'plan' && e.occurred_at <= now);
  const merged = mergedAway(filed);
  const byId = new Map<string, EngineEvent[]>();
  for (const e of filed) {
    const id = e.plan_id || e.id;
    const list = byId.get(id);
    if (list) list.push(e);
    else byId.set(id, [e]);
  }
  const out: StandingPlan[] = [];
  for (const [plan_id, versions] of byId) {
    versions.sort((a, b) => a.occurred_at - b.occurred_at || (a.id < b.id ? -1 : 1));
    const latest = versions.at(-1)!;
    const withdrawn = merged.get(plan_id);
    if (latest.status === 'cancelled' || (withdrawn && withdrawn.occurred_at >= latest.occurred_at)) continue;
    if (latest.window_start === null || latest.window_end === null) continue;
    out.push({ plan_id, version: latest, first_filed: versions[0]!.occurred_at });
  }
  return out;
}

/** The days two plans share, or null. */
export function sharedDays(a: EngineEvent, b: EngineEvent): { start: string; end: string; days: number } | null {
  const start = a.window_start! > b.window_start! ? a.window_start! : b.window_start!;
  const end = a.window_end! < b.window_end! ? a.window_end! : b.window_end!;
  if (start > end) return null;
  return { start, end, days: Math.round((midnight(end) - midnight(start)) / DAY) + 1 };
}

function pairFinding(a: StandingPlan, b: StandingPlan): Finding | null {
  const shared = sharedDays(a.version, b.version);
  if (!shared) return null;
  const anchor = Math.max(a.first_filed, b.first_filed);
  const agencies = (p: StandingPlan) => [p.version.agency_id, ...p.version.joint_agency_ids];
  const sameAgency = agencies(a).some((x) => agencies(b).includes(x));
  return {
    key: [a.version.enterprise_id, a.version.agency_id, `${a.plan_id}+${b.plan_id}`],
    anchor,
    windowStart: midnight(shared.start),
    windowEnd: midnight(addDays(shared.end, 1)) - 1,
    variant: '',
    evidence: [{ event: a.version, role: 'plan' }, { event: b.version, role: 'plan' }],
    figures: {
      plan_a: a.plan_id,
      plan_b: b.plan_id,
      other_agency_id: b.version.agency_id,
      same_agency: sameAgency,
      overlap_start: shared.start,
      overlap_end: shared.end,
      overlap_days: shared.days,
    },
    count: 2,
  };
}
