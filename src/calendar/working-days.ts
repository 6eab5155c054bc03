import chineseDays from 'chinese-days';
import { DAY, calendarDate } from './shanghai-time.js';

/**
 * China's official working-day calendar: public holidays and the weekends
 * declared working days in exchange (调休), from the maintained `chinese-days`
 * tables. Dates are Asia/Shanghai calendar dates, YYYY-MM-DD.
 *
 * The State Council publishes each year's holidays in November or December;
 * for a year the installed tables do not cover yet, only weekends are days off
 * (see `holidayTablesCover`).
 */
export type CalendarDate = string;

const { isWorkday, findWorkday, getDayDetail } = chineseDays;

export const isWorkingDay = (date: CalendarDate): boolean => isWorkday(date);

/** The n-th working day after `date` (n > 0) or before it (n < 0). */
export function addWorkingDays(date: CalendarDate, n: number): CalendarDate {
  if (!Number.isInteger(n) || n === 0) throw new RangeError(`working days must be a non-zero integer, got ${n}`);
  return findWorkday(n, date);
}

export function addDays(date: CalendarDate, n: number): CalendarDate {
  return calendarDate(midnight(date) + n * DAY);
}

/** Midnight in Shanghai at the start of `date`, in epoch ms. */
export function midnight(date: CalendarDate): number {
  return Date.parse(`${date}T00:00:00+08:00`);
}

/** Whether the installed tables know the year's holidays (New Year's Day is always one). */
export function holidayTablesCover(year: number): boolean {
  return getDayDetail(`${year}-01-01`).work === false && getDayDetail(`${year}-01-01`).name.includes('New Year');
}
