import { join } from 'node:path';
import { z } from 'zod';
import {
  DAY, addDays, calendarDate, holidaySources, isWeekend, midnight, type CalendarDate, type CalendarYear, type HolidayCalendar,
} from '../calendar/index.js';

/**
 * The operator's holiday calendar: `calendar/<year>.yaml` in the rule
 * directory, each a transcription of the State Council's notice for that year
 * (国务院办公厅关于<year>年部分节假日安排的通知): the days off (放假) and the
 * weekends worked in exchange (调休上班). A file decides its whole year, in
 * place of `chinese-days`; the JSON Schema at rules/calendar/schema.json is
 * generated from these definitions.
 */
const DAYS = /^(\d{4}-\d\d-\d\d)(?:\.\.(\d{4}-\d\d-\d\d))?$/;

/**
 * No State Council holiday has been longer than 10 days (春节 2020, extended).
 * A longer range is almost surely a typo in its end date, which would quietly
 * stop every working-day deadline for months; and the engine reads ahead for
 * working-day offsets assuming no longer run of days off (offsets.ts `reachOf`).
 */
const MAX_RANGE_DAYS = 10;

/** A notice may start the New Year holiday in the last days of December before its year (the 2012 and 2019 notices did). */
const REACH_BACK_FROM = '12-25';

const Entry = z.object({
  name: z.string().trim().min(1, 'a name is required, e.g. 春节').describe('as the notice names it: 元旦, 春节, 春节调休, …'),
  days: z.array(z.string().regex(DAYS, 'must be a date YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD (both days included)'))
    .min(1, 'needs at least one day').describe('dates YYYY-MM-DD, or ranges YYYY-MM-DD..YYYY-MM-DD as the notice gives them (至: both days included)'),
}).strict();

export const HolidayFile = z.object({
  year: z.number().int().min(2000).max(2099).describe('the year of the notice; the file is named <year>.yaml'),
  source: z.string().trim().min(1, 'name the notice (e.g. 国办发明电〔2026〕N号), or say why the entry is provisional')
    .describe("the notice's title and number, or why the entry is provisional"),
  provisional: z.boolean().default(false).describe('true while the notice is not out: the service warns at start until it is replaced'),
  holidays: z.array(Entry).min(1, 'a year has at least 元旦').describe('days off (放假); weekends inside a holiday may be listed or not'),
  workdays: z.array(Entry).default([]).describe('Saturdays and Sundays declared working days (调休上班)'),
}).strict().superRefine(checkDays);
export type HolidayFile = z.infer<typeof HolidayFile>;

type Path = (string | number)[];
type List = 'holidays' | 'workdays';

/** The dates an item names, or why it names none. */
function expand(text: string): { dates: CalendarDate[] } | { error: string } {
  const match = DAYS.exec(text);
  // zod runs the day checks even when an item failed its pattern (the string is still a string); that issue says it all.
  if (!match) return { dates: [] };
  const first = match[1]!;
  const last = match[2] ?? first;
  for (const date of [first, last]) {
    // Date.parse rolls 2027-02-30 over to March; a real date reads back the same.
    if (calendarDate(midnight(date)) !== date) return { error: `${date} is not a calendar date` };
  }
  const length = (midnight(last) - midnight(first)) / DAY + 1;
  if (length < 1) return { error: `${text} ends before it starts` };
  if (length > MAX_RANGE_DAYS) return { error: `${text} is ${length} days long; no holiday is longer than ${MAX_RANGE_DAYS} (is the end date right?)` };
  return { dates: Array.from({ length }, (_, i) => addDays(first, i)) };
}

/** Whether a date may appear in the file of `year`, and why not. */
function outsideYear(date: CalendarDate, year: number): string | null {
  if (date.startsWith(`${year}-`) || (date.startsWith(`${year - 1}-`) && date.slice(5) >= REACH_BACK_FROM)) return null;
  return `${date} is not in ${year}: this file holds ${year} (and at most the last week of December ${year - 1}, for 元旦)`;
}

const WEEKDAYS = ['星期日 Sunday', '星期一 Monday', '星期二 Tuesday', '星期三 Wednesday', '星期四 Thursday', '星期五 Friday', '星期六 Saturday'];
const weekday = (date: CalendarDate) => WEEKDAYS[new Date(`${date}T00:00:00Z`).getUTCDay()]!;

/** One problem per listed item at most: a seven-day range in the wrong year is one mistake, not seven. */
function checkDays(file: HolidayFile, ctx: z.RefinementCtx): void {
  const issue = (path: Path, message: string) => ctx.addIssue({ code: 'custom', path, message });
  const seen = new Map<CalendarDate, { list: List; where: string }>();
  for (const list of ['holidays', 'workdays'] as const) {
    const names = new Map<string, number>();
    file[list].forEach((entry, i) => {
      if (names.has(entry.name)) issue([list, i, 'name'], `"${entry.name}" is already ${list}.${names.get(entry.name)}; put its days in one entry`);
      names.set(entry.name, i);
      entry.days.forEach((text, j) => {
        const path = [list, i, 'days', j];
        const expanded = expand(text);
        if ('error' in expanded) return issue(path, expanded.error);
        const problem = expanded.dates.map((date) => outsideYear(date, file.year)).find(Boolean)
          ?? (list === 'workdays' ? notWeekend(expanded.dates) : null)
          ?? listedBefore(expanded.dates, list, seen);
        if (problem) return issue(path, problem);
        for (const date of expanded.dates) seen.set(date, { list, where: `${list}.${i} (${entry.name})` });
      });
    });
  }
}

function notWeekend(dates: CalendarDate[]): string | null {
  const date = dates.find((d) => !isWeekend(midnight(d)));
  return date ? `${date} is a ${weekday(date)}, a working day anyway: an adjusted working day (调休上班) is a Saturday or Sunday` : null;
}

function listedBefore(dates: CalendarDate[], list: List, seen: ReadonlyMap<CalendarDate, { list: List; where: string }>): string | null {
  const date = dates.find((d) => seen.has(d));
  if (!date) return null;
  const earlier = seen.get(date)!;
  if (earlier.list === list) return `${date} is already listed in ${earlier.where}`;
  return `${date} is a day off in ${earlier.where} and a working day here: it can only be one`;
}

/** Problems that span files, pointing into one of them. */
export interface CalendarProblem {
  file: string;
  path: Path;
  message: string;
}

/**
 * Joins valid files into one calendar: each must be named after its year,
 * and a day two files list (a notice reaching back into December) must get
 * the same answer from both.
 */
export function compileHolidayCalendar(files: ReadonlyArray<{ file: string; name: string; spec: HolidayFile }>): {
  calendar: HolidayCalendar;
  problems: CalendarProblem[];
} {
  const problems: CalendarProblem[] = [];
  const years = new Map<number, CalendarYear>();
  const days = new Map<CalendarDate, { working: boolean; name: string; file: string }>();
  for (const { file, name, spec } of files) {
    if (name !== `${spec.year}.yaml` && name !== `${spec.year}.yml`) {
      problems.push({ file, path: ['year'], message: `must match the file name (${name}); the calendar of ${spec.year} is ${spec.year}.yaml` });
    }
    const other = years.get(spec.year);
    if (other) problems.push({ file, path: ['year'], message: `${spec.year} is also in ${other.file}` });
    years.set(spec.year, { file, source: spec.source, provisional: spec.provisional });
    for (const [list, working] of [['holidays', false], ['workdays', true]] as const) {
      spec[list].forEach((entry, i) => entry.days.forEach((text, j) => {
        const expanded = expand(text);
        if ('error' in expanded) return;
        const clash = expanded.dates.find((d) => days.has(d) && days.get(d)!.working !== working);
        if (clash) {
          const earlier = days.get(clash)!;
          problems.push({ file, path: [list, i, 'days', j], message: `${clash} is a ${earlier.working ? 'working day' : 'day off'} (${earlier.name}) in ${earlier.file}` });
        }
        for (const date of expanded.dates) days.set(date, { working, name: entry.name, file });
      }));
    }
  }
  return { calendar: { years, days }, problems };
}

/**
 * What an operator must fix, as of `now`, in the calendar in force: the years
 * working-day deadlines set now can reach (this year in Shanghai and, from
 * 1 December, the next) whose days off nobody knows or only a provisional
 * file gives, each with the file to edit.
 */
export function holidayWarnings(rulesDir: string, now: number): Array<{ year: number; file: string; message: string }> {
  const [year, month] = calendarDate(now).split('-').map(Number) as [number, number];
  return (month === 12 ? [year, year + 1] : [year]).flatMap((y) => {
    const { file, tables } = holidaySources(y);
    if (file?.provisional) {
      return [{ year: y, file: file.file, message: `the ${y} holiday calendar in ${file.file} is provisional (${file.source}): replace it with the State Council's notice` }];
    }
    if (file || tables) return [];
    const missing = join(rulesDir, 'calendar', `${y}.yaml`);
    return [{
      year: y,
      file: missing,
      message: `no holidays known for ${y}: chinese-days has none and ${missing} does not exist, so working-day deadlines count only weekends as days off; copy the State Council's notice for ${y} into that file`,
    }];
  });
}

export function holidayFileJsonSchema(): object {
  return { title: 'Qingjian holiday calendar (rules/calendar/<year>.yaml)', ...z.toJSONSchema(HolidayFile, { io: 'input', unrepresentable: 'any' }) };
}
