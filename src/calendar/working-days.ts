import chineseDays from 'chinese-days';
import { DAY, calendarDate, isWeekend } from './shanghai-time.js';

/**
 * China's official working-day calendar: public holidays and the weekends
 * declared working days in exchange (调休). Dates are Asia/Shanghai calendar
 * dates, YYYY-MM-DD.
 *
 * The maintained `chinese-days` tables answer by default. The State Council
 * publishes each year's holidays in November or December, often before the
 * package has them, so an operator's holiday calendar (rules/calendar/<year>.yaml,
 * installed with the rule set) decides every year it covers. A year neither
 * knows has only weekends off (see `holidaySources`).
 */
export type CalendarDate = string;

/** Where a year's days off come from when an operator's file decides them. */
export interface CalendarYear {
  file: string;
  /** The notice transcribed, or why the entry is provisional. */
  source: string;
  provisional: boolean;
}

export interface HolidayCalendar {
  /** Years the calendar decides alone: a day it does not list is a working day unless it is a weekend. */
  years: ReadonlyMap<number, CalendarYear>;
  /** Every listed day: a day off (放假) or an adjusted working day (调休上班). */
  days: ReadonlyMap<CalendarDate, { working: boolean; name: string }>;
}

const { isWorkday, getDayDetail } = chineseDays;

let active: HolidayCalendar = { years: new Map(), days: new Map() };

/** Makes `calendar` the one every working-day question uses (the rule registry installs its live set's). */
export function installHolidayCalendar(calendar: HolidayCalendar): void {
  active = calendar;
}

/**
 * Runs `work` with `calendar` in force and then restores the installed one.
 * `work` must be synchronous: nothing else runs in between, so a rule set that
 * is being tested, or one that was replaced while its evaluation waited for
 * storage, decides with its own calendar without disturbing the live one.
 */
export function withHolidayCalendar<T>(calendar: HolidayCalendar, work: () => T): T {
  const installed = active;
  active = calendar;
  try {
    return work();
  } finally {
    active = installed;
  }
}

/**
 * What each calendar answered, by date (and by date and count of working days). The rules ask the same few
 * hundred dates for every visit they decide, and the tables' answer allocates: a calendar's answers never change
 * (a new rule set brings a new calendar), so they are kept for as long as the calendar is.
 */
const answers = new WeakMap<HolidayCalendar, { working: Map<CalendarDate, boolean>; added: Map<CalendarDate, Map<number, CalendarDate>> }>();

function answersOf(calendar: HolidayCalendar) {
  let known = answers.get(calendar);
  if (!known) answers.set(calendar, (known = { working: new Map(), added: new Map() }));
  return known;
}

export function isWorkingDay(date: CalendarDate): boolean {
  const { working } = answersOf(active);
  let answer = working.get(date);
  if (answer === undefined) working.set(date, (answer = decideWorkingDay(date)));
  return answer;
}

function decideWorkingDay(date: CalendarDate): boolean {
  const listed = active.days.get(date);
  if (listed) return listed.working;
  if (active.years.has(yearOf(date))) return !isWeekend(midnight(date));
  return isWorkday(date);
}

/** The n-th working day after `date` (n > 0) or before it (n < 0). */
export function addWorkingDays(date: CalendarDate, n: number): CalendarDate {
  if (!Number.isInteger(n) || n === 0) throw new RangeError(`working days must be a non-zero integer, got ${n}`);
  const { added } = answersOf(active);
  let fromDate = added.get(date);
  if (!fromDate) added.set(date, (fromDate = new Map()));
  let day = fromDate.get(n);
  if (day === undefined) {
    day = date;
    for (let left = Math.abs(n); left > 0;) {
      day = addDays(day, Math.sign(n));
      if (isWorkingDay(day)) left--;
    }
    fromDate.set(n, day);
  }
  return day;
}

export function addDays(date: CalendarDate, n: number): CalendarDate {
  return calendarDate(midnight(date) + n * DAY);
}

// The rules ask this for every bound of every visit they decide, and most bounds fall on a few days.
const midnights = new Map<CalendarDate, number>();

/** Midnight in Shanghai at the start of `date`, in epoch ms. */
export function midnight(date: CalendarDate): number {
  let ms = midnights.get(date);
  if (ms === undefined) {
    ms = Date.parse(`${date}T00:00:00+08:00`);
    if (midnights.size >= 100_000) midnights.clear();
    midnights.set(date, ms);
  }
  return ms;
}

/** Who knows a year's days off: an operator's file (which then decides), the chinese-days tables, both or neither. */
export function holidaySources(year: number): { file: CalendarYear | null; tables: boolean } {
  // New Year's Day is a holiday every year, so the tables know a year exactly when they know that day.
  const newYear = getDayDetail(`${year}-01-01`);
  return { file: active.years.get(year) ?? null, tables: newYear.work === false && newYear.name.includes('New Year') };
}

const yearOf = (date: CalendarDate) => Number(date.slice(0, 4));
