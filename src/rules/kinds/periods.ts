import { addDays, calendarDate, midnight } from '../../calendar/index.js';
import type { CalendarPeriod } from '../schema.js';

/** The Shanghai calendar period containing an instant: [start, end] in ms, and a label like 2026, 2026-03, 2026-W09. */
export function periodOf(ms: number, period: CalendarPeriod): { start: number; end: number; label: string } {
  const date = calendarDate(ms);
  const [y, m] = [Number(date.slice(0, 4)), Number(date.slice(5, 7))];
  if (period === 'year') return span(`${y}-01-01`, `${y + 1}-01-01`, String(y));
  if (period === 'month') {
    const next = m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
    return span(date.slice(0, 8) + '01', next, date.slice(0, 7));
  }
  const weekday = (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7; // Monday = 0
  const monday = addDays(date, -weekday);
  return span(monday, addDays(monday, 7), `${monday}周`);
}

const span = (first: string, next: string, label: string) => ({ start: midnight(first), end: midnight(next) - 1, label });
