import { DAY, HOUR, startOfDay } from '../../calendar/index.js';
import type { ResolvedRule } from '../compile.js';
import type { EngineEvent } from '../events.js';
import type { Finding } from '../findings.js';
import { num } from '../offsets.js';
import { groupBy } from '../../collections.js';
import { countUnits, type Unit } from './counting.js';
import { planNeeds } from './visits.js';
import { periodOf } from './periods.js';
import type { Kind } from './types.js';

type Spec = Extract<ResolvedRule['spec'], { kind: 'threshold' }>['detect'];
const detect = (rule: ResolvedRule) => rule.spec.detect as Spec;

const dayIndex = (ms: number) => Math.floor((ms + 8 * HOUR) / DAY);

/**
 * Counts matching events (or visits, or distinct values) per key. With a
 * sliding window of N days, every run of N calendar days holding at least the
 * threshold is a breach; overlapping breaches form one episode, one alert,
 * anchored at the episode's first visit. With a calendar window, one alert
 * per period.
 */
export const threshold: Kind = {
  evaluate(rule, { events, accepted, from, to }) {
    const spec = detect(rule);
    const matching = accepted(rule.when(spec.match));
    const plans = events.filter((e) => e.type === 'plan');
    const findings: Finding[] = [];
    const readings = [{ id: '', group_by: spec.group_by, at_least: spec.at_least }, ...spec.also];
    for (const reading of readings) {
      for (const [key, group] of groupBy(matching, (e) => reading.group_by.map((f) => e[f]).join('\n'))) {
        const units = countUnits(group, spec.count, plans);
        const atLeast = num(reading.at_least);
        const found = 'sliding_days' in spec.window ? episodes(units, rule, atLeast) : periods(units, rule, atLeast);
        const wording = 'title' in reading ? { title: reading.title, message: reading.message } : undefined;
        const severity = 'severity' in reading ? reading.severity : undefined;
        // The key names the reading's own fields: an agency's episode is its own alert beside the company's.
        findings.push(...found.map((f) => ({ ...f, key: key.split('\n'), variant: reading.id, severity, wording })));
      }
    }
    return { findings: findings.filter((f) => f.anchor >= from && f.anchor <= to), pending: [] };
  },
  decideRange(rule, t1, t2) {
    const window = detect(rule).window;
    if ('calendar' in window) return [periodOf(t1, window.calendar).start, periodOf(t2, window.calendar).end];
    // A late event can join an episode that began before it, or pull a later episode's start back to its day:
    // the alert anchored there must be decided again (cleared and replaced), or two alerts would stand for one episode.
    const span = num(window.sliding_days) * DAY;
    return [t1 - 2 * span, t2 + span];
  },
  context(rule, from, to) {
    const spec = detect(rule);
    const types = rule.types(spec.match);
    const [first, last] = 'calendar' in spec.window
      ? [from, periodOf(to, spec.window.calendar).end]
      : [from - num(spec.window.sliding_days) * DAY, to + 3 * num(spec.window.sliding_days) * DAY];
    return [{ types, from: first, to: last }, ...planNeeds(spec.count, first, last)];
  },
  // Units are events, distinct agencies (never more than their events) or visits, each of which starts with one of its
  // agency's events more than the gap after that agency's previous visit, so at most once per agency and gap-long
  // interval. The readings grouped by more fields count within the company's count. Distinct officers are not
  // bounded: one scan may name several.
  reach(rule, from, to) {
    const spec = detect(rule);
    if (!('sliding_days' in spec.window)) return null;
    if (typeof spec.count === 'object' && 'distinct' in spec.count && spec.count.distinct === 'officer_ids') return null;
    const [need] = threshold.context(rule, from, to);
    const atLeast = Math.min(...[spec.at_least, ...spec.also.map((r) => r.at_least)].map(num));
    // A line of one: any company with a matching event may alert.
    if (atLeast <= 1) return null;
    const gap = typeof spec.count === 'object' && 'visits' in spec.count ? num(spec.count.visits.gap_hours) * HOUR : 0;
    // Without a gap every event may start a visit: counting the events bounds them.
    return { ...need!, windowDays: num(spec.window.sliding_days), atLeast, ...(gap > 0 ? { perAgencyMs: gap } : {}) };
  },
};

function episodes(units: Unit[], rule: ResolvedRule, atLeast: number): Omit<Finding, 'key'>[] {
  const spec = detect(rule);
  const days = num((spec.window as { sliding_days: number }).sliding_days);
  const runs: Array<{ first: number; last: number; max: number }> = [];
  for (let i = 0, j = 0; i < units.length; i++) {
    while (dayIndex(units[i]!.at) - dayIndex(units[j]!.at) >= days) j++;
    const inWindow = i - j + 1;
    if (inWindow < atLeast) continue;
    const run = runs.at(-1);
    if (run && j <= run.last) Object.assign(run, { last: i, max: Math.max(run.max, inWindow) });
    else runs.push({ first: j, last: i, max: inWindow });
  }
  return runs.map(({ first, last, max }) => {
    const counted = units.slice(first, last + 1);
    return finding(rule, counted, counted[0]!.at, counted.at(-1)!.at, { at_least: atLeast, max_in_window: max, window_days: days });
  });
}

function periods(units: Unit[], rule: ResolvedRule, atLeast: number): Omit<Finding, 'key'>[] {
  const spec = detect(rule);
  const period = (spec.window as { calendar: 'week' | 'month' | 'year' }).calendar;
  const byPeriod = groupBy(units, (u) => periodOf(u.at, period).label);
  return [...byPeriod.values()].filter((us) => us.length >= atLeast).map((us) => {
    const { start, end, label } = periodOf(us[0]!.at, period);
    return finding(rule, us, start, end, { at_least: atLeast, max_in_window: us.length, period: label });
  });
}

function finding(rule: ResolvedRule, units: Unit[], windowStart: number, windowEnd: number, figures: Finding['figures']): Omit<Finding, 'key'> {
  const { count } = detect(rule);
  const visits = typeof count === 'object' && 'visits' in count;
  const evidence = units.flatMap((u, i) => u.events.map((event: EngineEvent) => ({ event, role: 'counted', ...(visits ? { visit: i + 1 } : {}) })));
  // Anchored at the day the episode starts, not its first instant: a late scan earlier that morning (an officer's
  // entry synced after his exit) extends the same alert instead of replacing it with a new one.
  return { anchor: startOfDay(windowStart), windowStart, windowEnd, variant: '', evidence, figures: { count: units.length, ...figures }, count: units.length };
}
