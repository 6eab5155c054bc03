import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ALERT_MODES, CLEARED, SEVERITIES, type Alert, type AlertMode } from '../alerts/model.js';
import { DAY, HOUR, MINUTE, calendarDate, withHolidayCalendar } from '../calendar/index.js';
import { EVENT_TYPES, Enterprise, Event } from '../ingest/schema.js';
import { eventFields } from './engine.js';
import { companyFacts } from './events.js';
import { UndeclaredFieldError } from './fields.js';
import { at, readSource, validate, type Problem, type RuleSet } from './load.js';
import { simulate } from './simulate.js';

/**
 * Rule tests (rules/tests/*.test.yaml): given events at times relative to a
 * pinned clock, arriving when they say, the exact alerts expected — and none
 * beyond them. Events are written short; defaults fill the rest and the real
 * ingest schema validates the result.
 */
const Offset = z.string().regex(/^[+-]?(\d+d)?(\d+h)?(\d+m)?$|^\d{4}-\d\d-\d\dT/, 'must be an offset like -3d2h, +90m, or an RFC 3339 time');

const DayText = z.string().regex(/^\d{4}-\d\d-\d\d$|^[+-]?\d+d$/, 'must be a date YYYY-MM-DD or a day offset like +3d');

const ShortEvent = z.looseObject({
  id: z.string().min(1),
  type: z.enum(EVENT_TYPES),
  at: Offset.describe('event time'),
  arrives: Offset.optional().describe('arrival time (default: the event time)'),
  started: Offset.optional(),
  window: z.tuple([DayText, DayText]).optional().describe('plan dates: YYYY-MM-DD or day offsets like +3d'),
  visit: DayText.optional().describe("a filing's or a notice's visit date: YYYY-MM-DD or a day offset like +3d (default: its own day)"),
});

const ExpectedAlert = z.object({
  variant: z.string().default(''),
  severity: z.enum(SEVERITIES).optional(),
  status: z.enum(['open', 'cleared', 'resolved', 'acknowledged']).default('open'),
  mode: z.enum(ALERT_MODES).optional()
    .describe("default: the rule's own mode, so that a rule switched to shadow keeps passing its tests; record: listed for review, never pushed"),
  evidence: z.array(z.string()).optional(),
  figures: z.record(z.string(), z.unknown()).optional(),
  count: z.number().int().optional(),
  agency_id: z.string().optional(),
  message_contains: z.string().optional(),
}).strict();
type ExpectedAlert = z.infer<typeof ExpectedAlert>;

const TestFile = z.object({
  rule: z.string(),
  companies: z.array(Enterprise).default([]),
  agencies: z.array(z.object({ agency_id: z.string(), name: z.string() }).strict()).default([]),
  cases: z.array(z.object({
    name: z.string().min(1),
    now: z.iso.datetime({ offset: true }),
    events: z.array(ShortEvent).default([]),
    expect: z.array(ExpectedAlert),
  }).strict()).min(1),
}).strict();
type TestFile = z.infer<typeof TestFile>;

export interface CaseResult {
  file: string;
  rule: string;
  name: string;
  /** How many alerts the case expects (0: a negative case). */
  expected: number;
  failures: string[];
}

export interface TestReport {
  problems: Problem[];
  results: CaseResult[];
}

export async function runRuleTests(ruleSet: RuleSet, dir = join(ruleSet.dir, 'tests')): Promise<TestReport> {
  const report: TestReport = { problems: [], results: [] };
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.test.yaml')).sort();
  for (const name of files) {
    // Same reading as rule files: size limit, YAML syntax errors and alias bombs are problems, not crashes.
    const source = await readSource(join(dir, name), report.problems);
    const data = source && validate(source, TestFile, report.problems);
    if (!data) continue;
    const rule = ruleSet.rules.find((r) => r.spec.id === data.rule);
    if (!rule) {
      report.problems.push(at(source, ['rule'], `no rule "${data.rule}" in the rule set`));
      continue;
    }
    const fields = new Set(eventFields([rule]));
    data.cases.forEach((c, index) => {
      const events = expandEvents(data, index);
      if ('problems' in events) {
        report.problems.push(...events.problems.map((p) => at(source, p.path, p.message)));
        return;
      }
      // A candidate set is tested with its own calendar, not the live one. The events hold only the fields a backtest
      // of the rule reads (`eventFields`): reading any other fails the case.
      let failures: string[];
      try {
        const alerts = withHolidayCalendar(ruleSet.calendar, () => simulate({
          rules: [rule],
          companies: data.companies.map(companyFacts),
          agencyNames: new Map(data.agencies.map((a) => [a.agency_id, a.name])),
          arrivals: events.arrivals,
          until: Date.parse(c.now),
          fields,
        }));
        failures = compare(alerts, c.expect, rule.spec.mode);
      } catch (err) {
        if (!(err instanceof UndeclaredFieldError)) throw err;
        failures = [`the rule ${err.message}`];
      }
      report.results.push({ file: source.file, rule: rule.spec.id, name: c.name, expected: c.expect.length, failures });
    });
  }
  return report;
}

type Expanded = { arrivals: Array<{ at: number; event: Event }> } | { problems: Array<{ path: (string | number)[]; message: string }> };

function expandEvents(file: TestFile, caseIndex: number): Expanded {
  const c = file.cases[caseIndex]!;
  const now = Date.parse(c.now);
  const company = file.companies[0];
  const defaults = {
    enterprise_id: company?.enterprise_id ?? '91371400MA3C000017',
    region: company?.region ?? '371400',
    agency_id: file.agencies[0]?.agency_id ?? '371400-SCJG',
  };
  const arrivals: Array<{ at: number; event: Event }> = [];
  const problems: Array<{ path: (string | number)[]; message: string }> = [];
  c.events.forEach((short, i) => {
    const { at: when, arrives, started, window, visit, ...fields } = short;
    const occurred = instant(when, now);
    const base = { source: 'rule-test', region: defaults.region, occurred_at: iso(occurred) };
    const typed = {
      checkin: { enterprise_id: defaults.enterprise_id, agency_id: defaults.agency_id, officer_ids: ['officer-1'], action: 'enter', method: 'qr', onsite: true },
      inspection: { enterprise_id: defaults.enterprise_id, agency_id: defaults.agency_id, officer_ids: ['officer-1'], onsite: true, started_at: iso(started ? instant(started, now) : occurred) },
      plan: {
        agency_id: defaults.agency_id, enterprise_ids: [defaults.enterprise_id], mode: 'onsite', status: 'approved',
        window_start: day(window?.[0] ?? '0d', occurred), window_end: day(window?.[1] ?? '+10d', occurred),
      },
      complaint: { enterprise_id: defaults.enterprise_id, category: 'other', channel: '12345', text: '测试投诉' },
      filing: {
        enterprise_id: defaults.enterprise_id, agency_id: defaults.agency_id, kind: 'quiet_period_check',
        filed_with: 'county_enforcement_office', visit_date: day(visit ?? '0d', occurred), approved_by: 'head-1',
      },
      notice: {
        enterprise_id: defaults.enterprise_id, agency_id: defaults.agency_id, officer_ids: ['officer-1'], matters: ['测试检查事项'],
        visit_date: day(visit ?? '0d', occurred),
      },
      evaluation: { enterprise_id: defaults.enterprise_id, agency_id: defaults.agency_id, channel: 'sms' },
    }[short.type];
    const parsed = Event.safeParse({ ...base, ...typed, ...fields });
    if (!parsed.success) {
      problems.push(...parsed.error.issues.map((issue) => ({ path: ['cases', caseIndex, 'events', i, ...(issue.path as string[])], message: issue.message })));
      return;
    }
    arrivals.push({ at: arrives ? instant(arrives, now) : occurred, event: parsed.data });
  });
  return problems.length > 0 ? { problems } : { arrivals };
}

const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '+00:00');

/** An offset from `base` (-3d2h, +90m) or an absolute RFC 3339 time. */
function instant(text: string, base: number): number {
  const m = /^([+-]?)(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/.exec(text);
  if (!m) return Date.parse(text);
  const size = Number(m[2] ?? 0) * DAY + Number(m[3] ?? 0) * HOUR + Number(m[4] ?? 0) * MINUTE;
  return base + (m[1] === '-' ? -size : size);
}

/** A plan's or filing's date: YYYY-MM-DD, or a day offset from the filing's date. */
const day = (text: string, filed: number) => (/^\d{4}-\d\d-\d\d$/.test(text) ? text : calendarDate(instant(text, filed)));

function compare(alerts: Alert[], expected: ExpectedAlert[], ruleMode: AlertMode): string[] {
  const unmatched = [...alerts];
  const failures: string[] = [];
  for (const given of expected) {
    const want = { ...given, mode: given.mode ?? ruleMode };
    const i = unmatched.findIndex((a) => matches(a, want));
    if (i >= 0) unmatched.splice(i, 1);
    else failures.push(`missing ${JSON.stringify(want)}`);
  }
  for (const a of unmatched) failures.push(`unexpected ${JSON.stringify(summary(a))}`);
  if (failures.length > 0 && alerts.length > 0) failures.push(`alerts produced: ${JSON.stringify(alerts.map(summary))}`);
  return failures;
}

const statusOf = (a: Alert) => (a.resolution === CLEARED ? 'cleared' : a.status);

function summary(a: Alert) {
  return {
    variant: a.variant, severity: a.severity, status: statusOf(a), mode: a.mode, count: a.count, agency_id: a.agency_id,
    evidence: a.evidence.map((e) => e.event_id).sort(), figures: a.figures, message: a.message.zh,
  };
}

function matches(a: Alert, want: ExpectedAlert & { mode: AlertMode }): boolean {
  const s = summary(a);
  return s.variant === want.variant
    && s.status === want.status
    && s.mode === want.mode
    && (want.severity === undefined || s.severity === want.severity)
    && (want.count === undefined || s.count === want.count)
    && (want.agency_id === undefined || s.agency_id === want.agency_id)
    && (want.evidence === undefined || JSON.stringify(s.evidence) === JSON.stringify([...want.evidence].sort()))
    && (want.figures === undefined || Object.entries(want.figures).every(([k, v]) => s.figures[k] === v))
    && (want.message_contains === undefined || s.message.includes(want.message_contains));
}
