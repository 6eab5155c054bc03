import { DAY, HOUR, MINUTE, addDays, addWorkingDays, calendarDate, midnight } from '../calendar/index.js';
import type { Offset } from './schema.js';

export type Bound = Offset | readonly Offset[] | 'unbounded';

/** A resolved number (parameters are substituted before evaluation). */
export const num = (value: unknown): number => {
  if (typeof value !== 'number') throw new TypeError(`expected a resolved number, got ${JSON.stringify(value)}`);
  return value;
};

/**
 * The instant an offset from an anchor reaches. Minutes and hours move the
 * instant; days and working days move the Shanghai date and take the whole
 * day (a `from` bound starts at its midnight, a `to` bound ends at its last ms).
 */
export function boundAt(anchor: number, bound: Bound, side: 'from' | 'to'): number {
  if (bound === 'unbounded') return side === 'from' ? -Infinity : Infinity;
  // Several offsets: the tightest (a plan filed 7 days ahead *and* before the check).
  if (isList(bound)) return (side === 'to' ? Math.min : Math.max)(...bound.map((b) => boundAt(anchor, b, side)));
  if (bound.minutes !== undefined) return anchor + num(bound.minutes) * MINUTE;
  if (bound.hours !== undefined) return anchor + num(bound.hours) * HOUR;
  const date = calendarDate(anchor);
  const n = num(bound.days ?? bound.working_days);
  const target = bound.days !== undefined || n === 0 ? addDays(date, n) : addWorkingDays(date, n);
  return side === 'from' ? midnight(target) : midnight(addDays(target, 1)) - 1;
}

/** A span certainly at least as long as the offset, for deciding what to re-read (holidays can add ten days). */
export function reachOf(bound: Bound, unboundedMs: number): number {
  if (bound === 'unbounded') return unboundedMs;
  if (isList(bound)) return Math.max(...bound.map((b) => reachOf(b, unboundedMs)));
  if (bound.minutes !== undefined) return Math.abs(num(bound.minutes)) * MINUTE;
  if (bound.hours !== undefined) return Math.abs(num(bound.hours)) * HOUR;
  if (bound.days !== undefined) return (Math.abs(num(bound.days)) + 1) * DAY;
  return (2 * Math.abs(num(bound.working_days)) + 12) * DAY;
}

const isList = (bound: Bound): bound is readonly Offset[] => Array.isArray(bound);
