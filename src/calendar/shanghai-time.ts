/**
 * Asia/Shanghai calendar arithmetic on epoch milliseconds. China has kept UTC+8
 * without daylight saving since 1991, so a fixed offset is exact and much
 * faster than Intl for tens of thousands of timestamps.
 */
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
const OFFSET = 8 * HOUR;

/** Reads the wall clock in Shanghai through the UTC getters of a shifted Date. */
const wallClock = (ms: number) => new Date(ms + OFFSET);

/** Midnight in Shanghai of the day containing `ms`. */
export const startOfDay = (ms: number): number => Math.floor((ms + OFFSET) / DAY) * DAY - OFFSET;

// Rules and plan checks ask this for every event they look at, and most events fall on a few days.
const dates = new Map<number, string>();

/** YYYY-MM-DD in Shanghai. */
export function calendarDate(ms: number): string {
  const day = startOfDay(ms);
  let date = dates.get(day);
  if (date === undefined) {
    date = wallClock(day).toISOString().slice(0, 10);
    if (dates.size >= 100_000) dates.clear();
    dates.set(day, date);
  }
  return date;
}

/** RFC 3339 with the +08:00 offset, to the second, e.g. 2026-03-02T09:30:00+08:00. */
export const timestamp = (ms: number): string => `${wallClock(ms).toISOString().slice(0, 19)}+08:00`;

export const isWeekend = (ms: number): boolean => {
  const weekday = wallClock(ms).getUTCDay();
  return weekday === 0 || weekday === 6;
};

// Quiet-period checks ask this for every candidate day of every plan; a day has one answer.
const monthDays = new Map<number, { fromStart: number; fromEnd: number }>();

/** Day of the month, and the same day counted from the month's end (-1 is the last day). */
export function dayOfMonth(ms: number): { fromStart: number; fromEnd: number } {
  const day = startOfDay(ms);
  let cached = monthDays.get(day);
  if (!cached) {
    const date = wallClock(day);
    const daysInMonth = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
    cached = { fromStart: date.getUTCDate(), fromEnd: date.getUTCDate() - daysInMonth - 1 };
    monthDays.set(day, cached);
  }
  return cached;
}
