import { remembered } from '../collections.js';

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
const dateOfDay = remembered(100_000, (day: number) => wallClock(day).toISOString().slice(0, 10));

/** YYYY-MM-DD in Shanghai. */
export const calendarDate = (ms: number): string => dateOfDay(startOfDay(ms));

/** RFC 3339 with the +08:00 offset, to the second, e.g. 2026-03-02T09:30:00+08:00. */
export const timestamp = (ms: number): string => `${wallClock(ms).toISOString().slice(0, 19)}+08:00`;

export const isWeekend = (ms: number): boolean => {
  const weekday = wallClock(ms).getUTCDay();
  return weekday === 0 || weekday === 6;
};

// Quiet-period checks ask this for every candidate day of every plan; a day has one answer.
const monthDayOf = remembered(100_000, (day: number) => {
  const date = wallClock(day);
  const daysInMonth = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
  return { fromStart: date.getUTCDate(), fromEnd: date.getUTCDate() - daysInMonth - 1 };
});

/** Day of the month, and the same day counted from the month's end (-1 is the last day). */
export const dayOfMonth = (ms: number): { fromStart: number; fromEnd: number } => monthDayOf(startOfDay(ms));
