import { calendarDate, DAY } from '../../calendar/index.js';
import type { ResolvedRule } from '../compile.js';
import type { EngineEvent } from '../events.js';
import { boundAt, reachOf, type Bound } from '../offsets.js';
import type { ConditionSpec, Offset } from '../schema.js';
import { standingAt } from '../plans.js';
import type { KindInput } from './types.js';

/** How another event must relate to a trigger (the `expect`/`correlate`/`within` triple of the rule language). */
export interface ExpectationSpec {
  expect: ConditionSpec;
  correlate: Array<
    | { same: 'enterprise_id' | 'agency_id' | 'plan_id'; or_in?: 'joint_agency_ids'; if_set?: boolean }
    | { covers: ['window_start', 'window_end'] }
    | { shares: 'matters' }
  >;
  within: { from: Bound; to: Bound };
  /** The trigger may be its own expected event (an inspection record that carries its own result). */
  self_match?: boolean;
}

/** How far back "unbounded" looks: plans are not filed more than a year ahead. */
export const UNBOUNDED_LOOKBACK = 400 * DAY;

export type Search =
  | { state: 'found'; matches: EngineEvent[]; from: number; to: number }
  | { state: 'missing'; from: number; to: number; deadline: number }
  | { state: 'pending'; deadline: number };


/**
 * Looks for events satisfying an expectation around a trigger. While the
 * searched span (plus the allowed lateness) has not passed, a missing event
 * may still arrive: the answer is `pending` with the instant to decide at.
 */
export function search(
  rule: ResolvedRule, spec: ExpectationSpec, trigger: EngineEvent, anchor: number,
  input: Pick<KindInput, 'accepted' | 'planVersions' | 'now'>, lateness?: Offset,
): Search {
  const from = boundAt(anchor, spec.within.from, 'from');
  const to = boundAt(anchor, spec.within.to, 'to');
  const expected = rule.when(spec.expect);
  // Plan versions are resolved only when plans are what the expectation looks for (scans are not versioned): then
  // the other events, and each plan as it stood at the anchor (`plansAsOf`, in its order).
  const types = rule.types(spec.expect);
  const asOfAnchor = types === null || types.includes('plan');
  const day = calendarDate(anchor);
  const matches: EngineEvent[] = [];
  // Loops with a function of the module, not a closure made for each trigger (this runs for every trigger).
  for (const e of input.accepted(expected)) {
    if ((!asOfAnchor || e.type !== 'plan') && fits(spec, trigger, day, from, to, e)) matches.push(e);
  }
  if (asOfAnchor) for (const plan of standingAt(input.planVersions(), anchor)) if (expected(plan) && fits(spec, trigger, day, from, to, plan)) matches.push(plan);
  if (matches.length > 0) return { state: 'found', matches, from, to };
  const deadline = lateness && Number.isFinite(to) ? boundAt(to, lateness, 'to') : to;
  if (deadline > input.now) return { state: 'pending', deadline };
  return { state: 'missing', from, to, deadline };
}

/** Whether `e` is an expected event of the trigger: not the trigger itself (unless allowed), in [from, to], correlated. */
const fits = (spec: ExpectationSpec, trigger: EngineEvent, day: string, from: number, to: number, e: EngineEvent) =>
  (e.id !== trigger.id || spec.self_match === true) && e.occurred_at >= from && e.occurred_at <= to && correlated(spec, trigger, day, e);

/** `day`: the anchor's Shanghai date. A loop, not `every`: this runs for every event of every trigger. */
function correlated(spec: ExpectationSpec, trigger: EngineEvent, day: string, other: EngineEvent): boolean {
  for (const c of spec.correlate) {
    if ('shares' in c) {
      if (!other.matters.some((m) => trigger.matters.includes(m))) return false;
    } else if ('covers' in c) {
      if (other.window_start === null || other.window_end === null || other.window_start > day || day > other.window_end) return false;
    } else {
      const value = trigger[c.same];
      if (value === '' && c.if_set) continue;
      if (value === '' || (other[c.same] !== value && (c.or_in === undefined || !other[c.or_in].includes(value)))) return false;
    }
  }
  return true;
}

/** How far before and after an anchor the expected events may lie. */
export function reach(list: readonly ExpectationSpec[]): { before: number; after: number } {
  let before = 0;
  let after = 0;
  for (const e of list) {
    before = Math.max(before, extent(e.within.from, -1));
    after = Math.max(after, extent(e.within.to, 1));
  }
  return { before, after };
}

/** How far a bound reaches in one direction from the anchor (0 if it lies the other way). */
function extent(bound: ExpectationSpec['within']['from'], direction: 1 | -1): number {
  if (bound === 'unbounded') return UNBOUNDED_LOOKBACK;
  if (Array.isArray(bound)) return Math.max(...bound.map((b) => extent(b, direction)));
  const value = Number(Object.values(bound).find((v) => v !== undefined));
  return value * direction >= 0 ? reachOf(bound, UNBOUNDED_LOOKBACK) : 0;
}
