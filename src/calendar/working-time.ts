import { DAY, MINUTE, calendarDate, startOfDay } from './shanghai-time.js';
import { isWorkingDay } from './working-days.js';

/**
 * Deadlines counted in working time: only minutes inside the office hours of
 * an official working day count (holidays off, adjusted working weekends on,
 * per `working-days.ts`), in Asia/Shanghai. A 24/7 centre counts every minute.
 */

/** Office hours of a working day, as minutes after midnight; `to` is exclusive. */
export interface WorkingPeriod {
  from: number;
  to: number;
}

export type WorkingSchedule =
  | { alwaysWorking: true }
  | { alwaysWorking: false; periods: readonly WorkingPeriod[] };

const PERIOD = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/;

/** Parses office hours like `09:00-12:00,13:30-17:30`: periods in order, not overlapping, within one day. */
export function parseWorkingHours(text: string): WorkingPeriod[] {
  const periods = text.split(',').map((part) => {
    const match = PERIOD.exec(part.trim());
    if (!match) throw new RangeError(`"${part}" is not a period HH:MM-HH:MM`);
    const [, fromH, fromM, toH, toM] = match.map(Number) as [number, number, number, number, number];
    const from = clock(fromH, fromM, part);
    const to = clock(toH, toM, part);
    if (to <= from) throw new RangeError(`"${part}" ends before it starts`);
    return { from, to };
  });
  for (let i = 1; i < periods.length; i++) {
    if (periods[i]!.from < periods[i - 1]!.to) throw new RangeError('periods must be in order and must not overlap');
  }
  return periods;
}

function clock(hours: number, minutes: number, part: string): number {
  if (minutes > 59 || hours > 24 || (hours === 24 && minutes > 0)) throw new RangeError(`"${part}" is not a time of day`);
  return hours * 60 + minutes;
}

/** Working minutes in one working day: what "N working days" of a deadline amounts to. */
export function workingMinutesPerDay(schedule: WorkingSchedule): number {
  if (schedule.alwaysWorking) return 24 * 60;
  return schedule.periods.reduce((sum, p) => sum + p.to - p.from, 0);
}

// A schedule without working time would never reach its deadline; ten years of days is far past any SLA.
const MAX_DAYS = 3_660;

/**
 * The instant `minutes` working minutes after `start`. Time before the office
 * opens, over lunch, after hours and on days off does not count; a deadline
 * that falls on the end of a period is that end (12:00, not 13:30).
 */
export function addWorkingMinutes(start: Date, minutes: number, schedule: WorkingSchedule): Date {
  if (!Number.isFinite(minutes) || minutes < 0) throw new RangeError(`working minutes must be a finite number ≥ 0, got ${minutes}`);
  if (schedule.alwaysWorking) return new Date(start.getTime() + minutes * MINUTE);
  let remaining = minutes * MINUTE;
  let cursor = start.getTime();
  for (let day = startOfDay(cursor), n = 0; n < MAX_DAYS; day += DAY, n++) {
    if (!isWorkingDay(calendarDate(day))) continue;
    for (const period of schedule.periods) {
      const opens = Math.max(cursor, day + period.from * MINUTE);
      const closes = day + period.to * MINUTE;
      if (opens >= closes) continue;
      if (remaining <= closes - opens) return new Date(opens + remaining);
      remaining -= closes - opens;
      cursor = closes;
    }
  }
  throw new RangeError(`no working time within ${MAX_DAYS} days of ${start.toISOString()}`);
}
