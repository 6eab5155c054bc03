import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { qingjianRules as qingjian } from './support/cli.js';
import {
  addWorkingDays, addWorkingMinutes, installHolidayCalendar, isWorkingDay, parseWorkingHours, withHolidayCalendar, type HolidayCalendar,
} from '../src/calendar/index.js';
import { createLogger } from '../src/log.js';
import { holidayFileJsonSchema, holidayWarnings } from '../src/rules/holidays.js';
import { loadRuleSet, RuleSetError, formatProblem } from '../src/rules/load.js';
import { createRuleRegistry } from '../src/rules/registry.js';
import { runRuleTests } from '../src/rules/testing.js';
import { eventually } from './support/service.js';

/**
 * The operator's holiday calendar (rules/calendar/<year>.yaml) against real
 * files: it decides the years it covers in place of chinese-days, moves
 * working-day deadlines in the rule engine and the hotline, is validated with
 * file:line, reloads with the rule set (and only with a set that passes), and
 * `qingjian rules check` shows which years it covers.
 *
 * The 2027 file here (tests/fixtures/calendar/2027.yaml) is an invented
 * example: 元旦 01-01..01-03, 春节 Sat 02-06..Fri 02-12 off, Saturday 02-13
 * worked. chinese-days 1.5.7 knows no 2027 holidays at all; the tests compare
 * with a 2027 file that lists only 元旦, so they hold after a package update too.
 */
const root = dirname(import.meta.dirname);
const EXAMPLE = readFileSync(join(root, 'tests', 'fixtures', 'calendar', '2027.yaml'), 'utf8');
const NONE: HolidayCalendar = { years: new Map(), days: new Map() };
const NEW_YEAR_ONLY = 'year: 2027\nsource: 仅供测试\nholidays:\n  - { name: 元旦, days: [2027-01-01..2027-01-03] }\n';

const temps: string[] = [];
afterAll(() => temps.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
// The registry installs its calendar process-wide; every test starts from chinese-days alone.
afterEach(() => installHolidayCalendar(NONE));

/** A copy of the shipped rules with these files written into it (paths relative to the rule directory). */
function rulesWith(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'qingjian-calendar-'));
  temps.push(dir);
  cpSync(join(root, 'rules'), dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) write(dir, file, text);
  return dir;
}

function write(dir: string, file: string, text: string): void {
  mkdirSync(dirname(join(dir, file)), { recursive: true });
  writeFileSync(join(dir, file), text);
}

const calendarOf = async (files: Record<string, string>) => (await loadRuleSet(rulesWith(files))).calendar;

/** Every problem of a rule directory as the CLI prints them, with the directory's path left out. */
async function problemsOf(files: Record<string, string>): Promise<string[]> {
  const dir = rulesWith(files);
  try {
    await loadRuleSet(dir);
  } catch (err) {
    if (!(err instanceof RuleSetError)) throw err;
    return err.problems.map((p) => formatProblem(p).replaceAll(`${relative(process.cwd(), dir)}/`, ''));
  }
  throw new Error('the directory loaded without problems');
}

describe('a calendar file decides its year', () => {
  it('adds days off, and a 3-working-day deadline moves past them', async () => {
    const before = await calendarOf({ 'calendar/2027.yaml': NEW_YEAR_ONLY });
    withHolidayCalendar(before, () => {
      expect(isWorkingDay('2027-02-08')).toBe(true);
      expect(addWorkingDays('2027-02-05', 3)).toBe('2027-02-10');
    });
    const calendar = await calendarOf({ 'calendar/2027.yaml': EXAMPLE });
    withHolidayCalendar(calendar, () => {
      expect(['2027-02-08', '2027-02-09', '2027-02-10', '2027-02-11', '2027-02-12'].map(isWorkingDay)).toEqual([false, false, false, false, false]);
      // Friday 5 February + 3 working days: Saturday 13 (adjusted), Monday 15, Tuesday 16.
      expect(addWorkingDays('2027-02-05', 3)).toBe('2027-02-16');
      expect(addWorkingDays('2027-02-16', -3)).toBe('2027-02-05');
    });
    // Each calendar keeps its own answers (they are remembered per calendar).
    withHolidayCalendar(before, () => {
      expect(isWorkingDay('2027-02-08')).toBe(true);
      expect(addWorkingDays('2027-02-05', 3)).toBe('2027-02-10');
    });
  });

  it('makes an adjusted Saturday a working day, and the hotline counts its office hours', async () => {
    withHolidayCalendar(await calendarOf({ 'calendar/2027.yaml': NEW_YEAR_ONLY }), () => expect(isWorkingDay('2027-02-13')).toBe(false));
    const calendar = await calendarOf({ 'calendar/2027.yaml': EXAMPLE });
    const office = { alwaysWorking: false as const, periods: parseWorkingHours('09:00-12:00,13:30-17:30') };
    withHolidayCalendar(calendar, () => {
      expect(isWorkingDay('2027-02-13')).toBe(true);
      expect(isWorkingDay('2027-02-14')).toBe(false);
      // One working hour from Friday 5 February 17:00: the next office hour is on the adjusted Saturday.
      expect(addWorkingMinutes(new Date('2027-02-05T17:00:00+08:00'), 60, office).toISOString()).toBe(new Date('2027-02-13T09:30:00+08:00').toISOString());
    });
  });

  it('decides a year beyond chinese-days entirely: unlisted weekdays work, unlisted weekends are off', async () => {
    const calendar = await calendarOf({ 'calendar/2027.yaml': EXAMPLE });
    withHolidayCalendar(calendar, () => {
      expect(isWorkingDay('2027-01-01')).toBe(false);
      expect(isWorkingDay('2027-04-05')).toBe(false);
      // The example lists no National Day: 1 October 2027 (a Friday) is then a working day, Saturday 2 October is not.
      expect(isWorkingDay('2027-10-01')).toBe(true);
      expect(isWorkingDay('2027-10-02')).toBe(false);
    });
  });

  it('overrides chinese-days for a year both know, and leaves the other years to chinese-days', async () => {
    const calendar = await calendarOf({
      'calendar/2026.yaml': 'year: 2026\nsource: 仅供测试\nholidays:\n  - { name: 国庆节, days: [2026-10-01..2026-10-03] }\n',
    });
    withHolidayCalendar(calendar, () => {
      expect(isWorkingDay('2026-10-02')).toBe(false);
      // chinese-days has 10-05 off and Sunday 09-20 worked; this file lists neither, and it decides 2026.
      expect(isWorkingDay('2026-10-05')).toBe(true);
      expect(isWorkingDay('2026-09-20')).toBe(false);
      expect(isWorkingDay('2025-10-06')).toBe(false);
      expect(isWorkingDay('2025-09-28')).toBe(true);
    });
  });

  it('takes a notice that starts 元旦 in the last days of December before its year (as the 2019 notice did)', async () => {
    const calendar = await calendarOf({
      'calendar/2027.yaml': 'year: 2027\nsource: 仅供测试\nholidays:\n  - { name: 元旦, days: [2026-12-31..2027-01-03] }\nworkdays:\n  - { name: 元旦调休, days: [2026-12-26] }\n',
    });
    withHolidayCalendar(calendar, () => {
      expect(isWorkingDay('2026-12-31')).toBe(false);
      expect(isWorkingDay('2026-12-26')).toBe(true);
      // The rest of December 2026 is still chinese-days'.
      expect(isWorkingDay('2026-12-30')).toBe(true);
      expect(isWorkingDay('2026-12-27')).toBe(false);
    });
  });
});

/** A rule of our own (so that this test does not depend on the shipped rules' wording): an urgent visit needs a plan within 3 working days. */
const FILING_RULE = `id: urgent-filing
version: 1
kind: absence
title: { zh: 紧急检查未补报计划, en: Urgent visit without a plan }
message: { zh: "{{agency_name}}截至{{searched_to}}未补报", en: "{{agency_name}} filed nothing by {{searched_to}}" }
severity: medium
mode: active
source: { document: yunhe-2025-ten-mechanisms.txt, clause: 于3个工作日内备案 }
detect:
  trigger: { type: checkin, action: enter, urgent_reason: { exists: true } }
  expect: { type: plan }
  correlate: [{ same: enterprise_id }]
  within: { from: unbounded, to: { working_days: 3 } }
`;
/** The shipped policy map with that rule adopted in 烟台 (3706), the test company's city: one entry, as the README shows. */
const ADOPTED = (() => {
  const map = readFileSync(join(root, 'rules', 'regions.yaml'), 'utf8');
  const yantaiRules = map.indexOf('    rules:\n', map.indexOf('  - prefix: "3706"\n'));
  expect(yantaiRules).toBeGreaterThan(0);
  const at = yantaiRules + '    rules:\n'.length;
  return { 'regions.yaml': `${map.slice(0, at)}      urgent-filing:\n${map.slice(at)}` };
})();
const filingTest = (cases: string) => `rule: urgent-filing
companies:
  - { enterprise_id: 91370600000000003W, name: 烟台示例食品有限公司, region: "370600", credit_grade: C }
agencies:
  - { agency_id: 370600-SCJG, name: 烟台市市场监督管理局 }
cases:
${cases}`;
const BEFORE_SPRING_FESTIVAL = `  - name: without a plan the deadline is the third working day after 春节 (Tuesday 16 February)
    now: 2027-03-01T12:00:00+08:00
    events:
      - { id: c1, type: checkin, at: 2027-02-05T10:00:00+08:00, urgent_reason: emergency }
    expect:
      - { evidence: [c1], figures: { searched_to: "2027-02-16 23:59" } }
  - name: a plan filed on Monday 15 February is in time
    now: 2027-03-01T12:00:00+08:00
    events:
      - { id: c1, type: checkin, at: 2027-02-05T10:00:00+08:00, urgent_reason: emergency }
      - { id: p1, type: plan, at: 2027-02-15T16:00:00+08:00, window: [2027-02-05, 2027-02-05] }
    expect: []
`;
const IN_2026 = `  - name: a plan filed on the third working day is in time
    now: 2026-11-30T12:00:00+08:00
    events:
      - { id: c1, type: checkin, at: 2026-11-18T10:00:00+08:00, urgent_reason: emergency }
      - { id: p1, type: plan, at: 2026-11-23T16:00:00+08:00, window: [2026-11-18, 2026-11-18] }
    expect: []
`;

describe('the rule engine', () => {
  it('counts a rule\'s working days on the rule set\'s calendar', async () => {
    const files = { ...ADOPTED, 'urgent-filing.yaml': FILING_RULE, 'tests/urgent-filing.test.yaml': filingTest(BEFORE_SPRING_FESTIVAL) };
    const withCalendar = await runRuleTests(await loadRuleSet(rulesWith({ ...files, 'calendar/2027.yaml': EXAMPLE })));
    const mine = (report: typeof withCalendar) => report.results.filter((r) => r.rule === 'urgent-filing');
    expect(withCalendar.problems).toEqual([]);
    expect(mine(withCalendar).map((r) => r.failures)).toEqual([[], []]);

    // Without 春节 in the file the deadline is Wednesday 10 February, and the plan of the 15th is late.
    const without = mine(await runRuleTests(await loadRuleSet(rulesWith({ ...files, 'calendar/2027.yaml': NEW_YEAR_ONLY }))));
    expect(without[0]!.failures.join('\n')).toContain('"searched_to":"2027-02-10 23:59"');
    expect(without[1]!.failures.join('\n')).toContain('unexpected');
  });
});

describe('validation', () => {
  const year = (body: string) => ({ 'calendar/2027.yaml': `year: 2027\nsource: 仅供测试\n${body}` });

  it.each([
    ['a date of another year (last year\'s file copied)',
      'holidays:\n  - name: 春节\n    days: [2026-02-15..2026-02-23]\n',
      'calendar/2027.yaml:5: holidays.0.days.0: 2026-02-15 is not in 2027: this file holds 2027 (and at most the last week of December 2026, for 元旦)'],
    ['a December day before the last week',
      'holidays:\n  - { name: 元旦, days: [2026-12-05] }\n',
      'calendar/2027.yaml:4: holidays.0.days.0: 2026-12-05 is not in 2027: this file holds 2027 (and at most the last week of December 2026, for 元旦)'],
    ['a day both off and worked',
      'holidays:\n  - name: 春节\n    days: [2027-02-06..2027-02-12]\nworkdays:\n  - name: 春节调休\n    days: [2027-02-07]\n',
      'calendar/2027.yaml:8: workdays.0.days.0: 2027-02-07 is a day off in holidays.0 (春节) and a working day here: it can only be one'],
    ['a day listed twice',
      'holidays:\n  - { name: 元旦, days: [2027-01-01] }\n  - { name: 春节, days: [2027-02-06..2027-02-12, 2027-02-08] }\n',
      'calendar/2027.yaml:5: holidays.1.days.1: 2027-02-08 is already listed in holidays.1 (春节)'],
    ['an adjusted working day on a weekday',
      'holidays:\n  - { name: 元旦, days: [2027-01-01] }\nworkdays:\n  - { name: 春节调休, days: [2027-02-15] }\n',
      'calendar/2027.yaml:6: workdays.0.days.0: 2027-02-15 is a 星期一 Monday, a working day anyway: an adjusted working day (调休上班) is a Saturday or Sunday'],
    ['a date that does not exist',
      'holidays:\n  - { name: 春节, days: [2027-02-30] }\n',
      'calendar/2027.yaml:4: holidays.0.days.0: 2027-02-30 is not a calendar date'],
    ['a range that ends before it starts',
      'holidays:\n  - { name: 春节, days: [2027-02-12..2027-02-06] }\n',
      'calendar/2027.yaml:4: holidays.0.days.0: 2027-02-12..2027-02-06 ends before it starts'],
    ['a range with a mistyped end month',
      'holidays:\n  - { name: 春节, days: [2027-02-06..2027-12-12] }\n',
      'calendar/2027.yaml:4: holidays.0.days.0: 2027-02-06..2027-12-12 is 310 days long; no holiday is longer than 10 (is the end date right?)'],
    ['a date written the Chinese way',
      'holidays:\n  - { name: 春节, days: [2027年2月6日] }\n',
      'calendar/2027.yaml:4: holidays.0.days.0: must be a date YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD (both days included)'],
    ['one holiday in two entries',
      'holidays:\n  - { name: 春节, days: [2027-02-06] }\n  - { name: 春节, days: [2027-02-07] }\n',
      'calendar/2027.yaml:5: holidays.1.name: "春节" is already holidays.0; put its days in one entry'],
    ['a misspelt field',
      'holidays:\n  - { name: 元旦, days: [2027-01-01] }\nworkday:\n  - { name: 春节调休, days: [2027-02-13] }\n',
      'calendar/2027.yaml:5: workday: unknown field "workday"'],
    ['no holidays',
      'workdays:\n  - { name: 春节调休, days: [2027-02-13] }\n',
      'calendar/2027.yaml:1: holidays: Invalid input: expected array, received undefined'],
  ])('%s', async (_name, body, problem) => {
    expect(await problemsOf(year(body))).toEqual([problem]);
  });

  it('needs a source, and a year that matches the file name', async () => {
    expect(await problemsOf({ 'calendar/2027.yaml': 'year: 2027\nsource: ""\nholidays:\n  - { name: 元旦, days: [2027-01-01] }\n' })).toEqual([
      'calendar/2027.yaml:2: source: name the notice (e.g. 国办发明电〔2026〕N号), or say why the entry is provisional',
    ]);
    expect(await problemsOf({ 'calendar/2027.yaml': 'year: 2028\nsource: 仅供测试\nholidays:\n  - { name: 元旦, days: [2028-01-01] }\n' })).toEqual([
      'calendar/2027.yaml:1: year: must match the file name (2027.yaml); the calendar of 2028 is 2028.yaml',
    ]);
  });

  it('refuses two files that answer one December day differently', async () => {
    expect(await problemsOf({
      'calendar/2026.yaml': 'year: 2026\nsource: 仅供测试\nholidays:\n  - { name: 国庆节, days: [2026-10-01..2026-10-07] }\n  - { name: 年末, days: [2026-12-26] }\n',
      'calendar/2027.yaml': 'year: 2027\nsource: 仅供测试\nholidays:\n  - { name: 元旦, days: [2027-01-01] }\nworkdays:\n  - { name: 元旦调休, days: [2026-12-26] }\n',
    })).toEqual(['calendar/2027.yaml:6: workdays.0.days.0: 2026-12-26 is a day off (年末) in calendar/2026.yaml']);
  });

  it('reports a bad calendar with the rule problems, so the whole set is refused', async () => {
    const problems = await problemsOf({ ...year('holidays:\n  - { name: 春节, days: [2027-02-30] }\n'), 'no-plan.yaml': 'id: no-plan\n' });
    expect(problems.some((p) => p.startsWith('calendar/2027.yaml:4:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('no-plan.yaml:'))).toBe(true);
  });
});

describe('reload through the registry', () => {
  it('picks up a saved calendar file, tests the new set on its own calendar, and keeps the last good calendar on a bad file', async () => {
    // The rule's tests at first need nothing from a calendar; the edit adds a file and cases that need it.
    const dir = rulesWith({ ...ADOPTED, 'urgent-filing.yaml': FILING_RULE, 'tests/urgent-filing.test.yaml': filingTest(IN_2026) });
    const registry = await createRuleRegistry(dir, createLogger('silent'), { watch: true });
    try {
      expect(registry.status().calendar).toEqual([]);

      write(dir, 'calendar/2027.yaml', EXAMPLE);
      write(dir, 'tests/urgent-filing.test.yaml', filingTest(IN_2026 + BEFORE_SPRING_FESTIVAL));
      const loaded = await eventually(async () => (registry.status().calendar.length > 0 ? registry.status() : undefined), 10_000, 'calendar reloaded');
      expect(loaded.last_error).toBeNull();
      expect(loaded.calendar).toEqual([{ year: 2027, file: relative(process.cwd(), join(dir, 'calendar', '2027.yaml')), source: '测试示例，并非国务院办公厅通知 (a test example, not the official notice)', provisional: true }]);
      expect(isWorkingDay('2027-02-08')).toBe(false);
      expect(isWorkingDay('2027-02-13')).toBe(true);
      const good = loaded.digest;

      write(dir, 'calendar/2027.yaml', EXAMPLE.replace('days: [2027-02-13]', 'days: [2027-02-15]'));
      const failure = await eventually(async () => registry.status().last_error ?? undefined, 10_000, 'reload error');
      expect(failure.message).toMatch(/calendar\/2027\.yaml:\d+: workdays\.0\.days\.0: 2027-02-15 is a 星期一 Monday/);
      expect(registry.status().digest).toBe(good);
      expect(isWorkingDay('2027-02-13')).toBe(true);
      expect(isWorkingDay('2027-02-08')).toBe(false);
    } finally {
      registry.close();
    }
  });

  it('refuses a calendar edit that breaks a rule test, and keeps the calendar in force', async () => {
    const dir = rulesWith({
      ...ADOPTED, 'urgent-filing.yaml': FILING_RULE, 'tests/urgent-filing.test.yaml': filingTest(BEFORE_SPRING_FESTIVAL), 'calendar/2027.yaml': EXAMPLE,
    });
    const registry = await createRuleRegistry(dir, createLogger('silent'));
    try {
      expect(isWorkingDay('2027-02-10')).toBe(false);
      write(dir, 'calendar/2027.yaml', EXAMPLE.replace('2027-02-06..2027-02-12', '2027-02-06..2027-02-09'));
      const outcome = await registry.reload();
      expect(!outcome.ok && outcome.error).toContain('without a plan the deadline is the third working day after 春节');
      expect(isWorkingDay('2027-02-10')).toBe(false);
    } finally {
      registry.close();
    }
  });
});

describe('the start-up warning', () => {
  const dir = '/srv/qingjian/rules';
  const at = (shanghai: string) => Date.parse(`${shanghai}+08:00`);

  // Years far beyond any chinese-days release, so that a package update does not change the answer.
  it('names the file to edit for this year when nobody knows its holidays', () => {
    expect(holidayWarnings(dir, at('2098-03-01T09:00:00'))).toEqual([{
      year: 2098,
      file: '/srv/qingjian/rules/calendar/2098.yaml',
      message: 'no holidays known for 2098: chinese-days has none and /srv/qingjian/rules/calendar/2098.yaml does not exist, '
        + "so working-day deadlines count only weekends as days off; copy the State Council's notice for 2098 into that file",
    }]);
    expect(holidayWarnings(dir, at('2026-03-01T09:00:00'))).toEqual([]);
  });

  it('asks for next year from 1 December, Shanghai time', () => {
    expect(holidayWarnings(dir, at('2098-11-30T23:59:59')).map((w) => w.year)).toEqual([2098]);
    // 16:00 UTC on 30 November is already 1 December in Shanghai.
    expect(holidayWarnings(dir, Date.parse('2098-11-30T16:00:00Z')).map((w) => w.year)).toEqual([2098, 2099]);
  });

  it('is quiet once a file covers the year, and reminds while that file is provisional', async () => {
    const provisional = await calendarOf({ 'calendar/2027.yaml': EXAMPLE });
    const official = await calendarOf({ 'calendar/2027.yaml': EXAMPLE.replace('provisional: true', 'provisional: false') });
    withHolidayCalendar(official, () => expect(holidayWarnings(dir, at('2027-03-01T09:00:00'))).toEqual([]));
    const [warning] = withHolidayCalendar(provisional, () => holidayWarnings(dir, at('2027-03-01T09:00:00')));
    expect(warning!.year).toBe(2027);
    expect(warning!.message).toMatch(/^the 2027 holiday calendar in .*calendar\/2027\.yaml is provisional \(测试示例.*\): replace it with the State Council's notice$/);
  });
});


describe('qingjian rules check and schema', () => {
  it('checks the calendar files and prints which years each source covers', async () => {
    const dir = rulesWith({ 'calendar/2026.yaml': 'year: 2026\nsource: 国办发明电〔2025〕7号\nholidays:\n  - { name: 元旦, days: [2026-01-01..2026-01-03] }\n', 'calendar/2027.yaml': EXAMPLE });
    const run = await qingjian('check', '--dir', dir);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const file = (year: number) => relative(root, join(dir, 'calendar', `${year}.yaml`));
    const holidays = run.stdout.trimEnd().split('\n').filter((l) => l.startsWith('holidays '));
    expect(holidays).toEqual([
      // chinese-days 1.5.7 ends with 2026; a later release may add years after 2027.
      expect.stringMatching(/^holidays 2004-2025(,\S+)? chinese-days$/),
      `holidays 2026 ${file(2026)} 国办发明电〔2025〕7号 (in place of chinese-days)`,
      // Once chinese-days knows 2027 too, this line ends "(in place of chinese-days)" as well.
      expect.stringContaining(`holidays 2027 ${file(2027)} 测试示例，并非国务院办公厅通知 (a test example, not the official notice) (provisional)`),
    ]);
  });

  it('prints a broken calendar file\'s problems as file:line: field: message and exits 1', async () => {
    const dir = rulesWith({ 'calendar/2027.yaml': EXAMPLE.replace('days: [2027-02-13]', 'days: [2027-02-12]') });
    const run = await qingjian('check', '--dir', dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      `${relative(root, join(dir, 'calendar', '2027.yaml'))}:16: workdays.0.days.0: 2027-02-12 is a 星期五 Friday, a working day anyway: an adjusted working day (调休上班) is a Saturday or Sunday`,
    ]);
  });

  it('rules/calendar/schema.json is what `qingjian rules schema --calendar` generates now', async () => {
    const generated = `${JSON.stringify(holidayFileJsonSchema(), null, 2)}\n`;
    expect(readFileSync(join(root, 'rules', 'calendar', 'schema.json'), 'utf8')).toBe(generated);
    expect((await qingjian('schema', '--calendar')).stdout).toBe(generated);
  });
});
