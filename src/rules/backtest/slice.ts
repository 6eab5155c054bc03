import type { AlertCandidate } from '../../alerts/model.js';
import { withHolidayCalendar } from '../../calendar/index.js';
import { eachCompactRow } from '../../storage/compact-rows.js';
import { parseEventsInSpans, type EngineEventColumn } from '../../storage/tables/events.js';
import type { CompiledRule } from '../compile.js';
import { companyOf } from '../company.js';
import { evaluateCompany } from '../engine.js';
import { byTime, fromStoredRowUnshared, type CompanyFacts } from '../events.js';
import type { RuleSet } from '../load.js';

/**
 * What judges a backtest's slices: the rule as it is and, when given, as edited, over the same anchors. A slice
 * thread holds one (./thread.ts), so none of this may reach the embedded engine.
 */
export interface SliceJudge {
  current: RuleSet;
  candidate: RuleSet | null;
  ruleId: string;
  anchors: { from: number; to: number };
  /** Decisions whose deadline is after this are still pending. */
  now: number;
  agencies: ReadonlyMap<string, string>;
  /** The columns the slices were read with: what the rule and its candidate read (`eventFields`). */
  columns: readonly EngineEventColumn[];
}

/**
 * What a backtest report needs of each alert a slice finds. Whole candidates (evidence, figures, parameters, wording
 * in two languages) were copied from the slice thread and held by the main thread until the report was made.
 */
export type JudgedAlert = Pick<AlertCandidate, 'fingerprint' | 'variant' | 'severity' | 'count' | 'window_end' | 'first_seen_at' | 'enterprise_id'>
  & { message_zh: string };

/** One slice's share of a backtest report. */
export interface SliceOutcome {
  current: JudgedAlert[];
  candidate: JudgedAlert[];
  /** The names of the companies that have alerts (the report names its top ones). */
  names: Array<[string, string]>;
  companies: number;
  events: number;
}

/** Where slices are judged: on this thread (`judgeHere`), or on a thread of their own (./thread.ts). */
export interface SliceJudges {
  /** The slice's outcome, in the order asked. Its bytes may be moved to another thread (empty here afterwards). */
  judge(bytes: Uint8Array, companies: ReadonlyMap<string, CompanyFacts>): Promise<SliceOutcome>;
  close(): Promise<void>;
}

/** On this thread, each slice on a later turn of the event loop: the read of the next slice is asked for first. */
export const judgeHere = (judge: SliceJudge): SliceJudges => ({
  judge: (bytes, companies) => new Promise((turn) => setImmediate(turn)).then(() => judgeSlice(judge, bytes, companies)),
  close: async () => undefined,
});

export function ruleOf(set: RuleSet, id: string): CompiledRule {
  const rule = set.rules.find((r) => r.spec.id === id);
  if (!rule) throw new Error(`no rule "${id}" in ${set.dir} (rules: ${set.rules.map((r) => r.spec.id).join(', ')})`);
  return rule;
}

/**
 * A slice's events, as the engine wrote `events.inSpans` by company (`Storage.queryCompact`): each company's rows
 * are checked by the read columns' schema and judged as soon as they are all read, then dropped, so that the collector
 * does not copy a whole slice's events from one generation to the next. Its events keep their strings as read,
 * without the live memory's pools (`fromStoredRowUnshared`).
 */
export function judgeSlice(judge: SliceJudge, bytes: Uint8Array, companies: ReadonlyMap<string, CompanyFacts>): SliceOutcome {
  const current = ruleOf(judge.current, judge.ruleId);
  const candidate = judge.candidate ? ruleOf(judge.candidate, judge.ruleId) : null;
  const naming = { agencyName: (id: string) => judge.agencies.get(id) ?? id };
  const outcome: SliceOutcome = { current: [], candidate: [], names: [], companies: 0, events: 0 };
  const judged = new Set<string>();
  const parse = parseEventsInSpans(judge.columns);

  const judgeCompany = (id: string, rows: unknown[]) => {
    // Rows out of company order would judge a company on part of its history: refuse rather than report that.
    if (judged.has(id)) throw new Error(`backtest: the rows of ${id} did not come together; the slice's query must order them by company`);
    judged.add(id);
    const own = parse(rows).map(fromStoredRowUnshared).sort(byTime);
    const company = companyOf(id, companies, new Map([[id, own]]));
    outcome.companies++;
    outcome.events += own.length;
    const input = { company, events: own, changed: null, anchors: judge.anchors, now: judge.now, naming };
    // Each side decides with its own set's holiday calendar: a calendar edit can be backtested too.
    const decide = (set: RuleSet, rule: CompiledRule) =>
      anchoredIn(judge.anchors, withHolidayCalendar(set.calendar, () => evaluateCompany([rule], input)).candidates);
    const before = decide(judge.current, current);
    const after = judge.candidate && candidate ? decide(judge.candidate, candidate) : [];
    for (const alert of before) outcome.current.push(judgedAlert(alert));
    for (const alert of after) outcome.candidate.push(judgedAlert(alert));
    if (before.length > 0 || after.length > 0) outcome.names.push([id, company.name]);
  };

  let id: string | null = null;
  let rows: unknown[] = [];
  eachCompactRow<{ enterprise_id: string }>(bytes, (row) => {
    if (row.enterprise_id !== id) {
      if (id !== null) judgeCompany(id, rows);
      id = row.enterprise_id;
      rows = [];
    }
    rows.push(row);
  });
  if (id !== null) judgeCompany(id, rows);
  return outcome;
}

const judgedAlert = (a: AlertCandidate): JudgedAlert => ({
  fingerprint: a.fingerprint, variant: a.variant, severity: a.severity, count: a.count, window_end: a.window_end,
  first_seen_at: a.first_seen_at, enterprise_id: a.enterprise_id, message_zh: a.message.zh,
});

// A kind decides by whole days: a window starting after midnight would otherwise count that day's alerts
// anchored before it (seen when a test's window began at 00:12 Shanghai time).
const anchoredIn = (anchors: { from: number; to: number }, candidates: AlertCandidate[]) =>
  candidates.filter((a) => Date.parse(a.anchor_at) >= anchors.from && Date.parse(a.anchor_at) <= anchors.to);
