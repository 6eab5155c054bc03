import { DAY, HOUR, MINUTE, startOfDay } from '../../calendar/index.js';
import type { ResolvedRule } from '../compile.js';
import type { EngineEvent } from '../events.js';
import type { Verdict } from '../findings.js';
import { num } from '../offsets.js';
import { readableTime } from '../wording.js';
import { dayFinding } from './absence.js';
import type { Kind } from './types.js';

type Rule = Extract<ResolvedRule['spec'], { kind: 'duration' }>;
const spec = (rule: ResolvedRule) => rule.spec as Rule;

/** Records are filed after the visit they describe; this is how much later we still look for them (as in absence). */
const RECORD_LAG = 30 * DAY;

interface Measured {
  start: number;
  end: number;
  events: EngineEvent[];
  by: 'scans' | 'record';
}

/**
 * How long an agency stayed on site (德州: "执法时长47分钟", "次数和时长都合理"): from its first entry scan
 * until every officer who scanned in has scanned out, or, for a visit with no entry scan, from an on-site
 * record's start to its end. A
 * visit shorter than `at_least_minutes` raises `too_short`, one longer than `at_most_minutes` raises
 * `too_long`. A visit whose end is unknown (no exit scan within `exit_within_hours`, no end on the record)
 * is not measured: exit-without-scan is about that. Alerts are per company, agency and day.
 */
export const duration: Kind = {
  reads: ['ended_at'],
  evaluate(rule, input) {
    const { detect } = spec(rule);
    const verdict: Verdict = { findings: [], pending: [] };
    const least = num(detect.at_least_minutes) * MINUTE;
    const most = num(detect.at_most_minutes) * MINUTE;
    for (const visit of measure(rule, input.events)) {
      if (visit.start < input.from || visit.start > input.to) continue;
      const length = visit.end - visit.start;
      const variant = length < least ? 'too_short' : length > most ? 'too_long' : null;
      if (!variant) continue;
      const [trigger, ...rest] = visit.events;
      const finding = dayFinding(trigger!, visit.start, {
        variant, wording: detect[variant],
        extra: rest.map((event) => ({ event, role: 'measured' })),
        figures: { anchor: readableTime(visit.start), duration_minutes: Math.round(length / MINUTE), measured: visit.by },
      });
      verdict.findings.push({ ...finding, key: [...finding.key, variant] });
    }
    return verdict;
  },
  decideRange(rule, t1, t2) {
    const within = num(spec(rule).detect.exit_within_hours) * HOUR;
    return [startOfDay(t1 - within), startOfDay(t2 + within) + DAY - 1];
  },
  context(rule, from, to) {
    const { detect } = spec(rule);
    const within = num(detect.exit_within_hours) * HOUR;
    // Scans from before `from`: an entry there may be part of a visit that started earlier.
    return [
      { types: rule.types(detect.entry), from: from - within, to: to + within },
      { types: rule.types(detect.exit), from: from - within, to: to + within },
      { types: rule.types(detect.record), from, to: to + RECORD_LAG },
    ];
  },
};

/** Every visit whose length is known: by its scans, or by its record where the agency did not scan in. */
function measure(rule: ResolvedRule, events: readonly EngineEvent[]): Measured[] {
  const { detect } = spec(rule);
  const isEntry = rule.when(detect.entry);
  const isExit = rule.when(detect.exit);
  const isRecord = rule.when(detect.record);
  const within = num(detect.exit_within_hours) * HOUR;
  const visits: Measured[] = [];
  const open = new Map<string, { start: number; end: number | null; events: EngineEvent[]; inside: Set<string> }>();
  for (const e of events) {
    const entry = isEntry(e);
    if (!entry && !isExit(e)) continue;
    const visit = open.get(e.agency_id);
    const current = visit && e.occurred_at - visit.start <= within ? visit : undefined;
    if (entry) {
      if (current && current.inside.size > 0) {
        current.events.push(e);
        for (const o of e.officer_ids) current.inside.add(o);
      } else {
        open.set(e.agency_id, { start: e.occurred_at, end: null, events: [e], inside: new Set(e.officer_ids) });
      }
      continue;
    }
    // An exit ends nothing unless the agency has a visit open within the span.
    if (!current) continue;
    current.events.push(e);
    current.end = e.occurred_at;
    for (const o of e.officer_ids) current.inside.delete(o);
    if (current.inside.size === 0) {
      visits.push({ start: current.start, end: current.end, events: current.events, by: 'scans' });
      open.delete(e.agency_id);
    }
  }
  // Where the agency scanned in for the visit the scans measure it (or, with no exit, nobody can): a record
  // is measured only when no entry scan of its agency lies between exit_within before its start and its end.
  for (const e of events) {
    if (!isRecord(e) || e.started_at === null || e.ended_at === null) continue;
    const start = e.started_at;
    const end = e.ended_at;
    const scanned = events.some((s) => isEntry(s) && s.agency_id === e.agency_id && s.occurred_at >= start - within && s.occurred_at <= end);
    if (!scanned) visits.push({ start, end, events: [e], by: 'record' });
  }
  return visits;
}
