import { calendarDate } from '../calendar/index.js';
import type { Revision } from './lifecycle.js';
import { SEVERITIES, type Alert, type Severity } from './model.js';
import { silenceMatches, type Silence } from './silences.js';

/**
 * Who hears about a revision the engine decided: silences and inhibition, as
 * in Alertmanager. Both only mark the alert (silenced_by, inhibited_by); it is
 * stored either way, and delivery pushes only unmarked alerts.
 */

/** A rule whose open alerts inhibit lower-severity alerts of other rules that share these fields and period. */
export interface Inhibitor {
  rule_id: string;
  severity: Severity;
  equal: ReadonlyArray<'enterprise_id' | 'agency_id' | 'region'>;
  /** The target's anchor must fall in the same Shanghai calendar year/month/day as the source's (null: any time). */
  period: 'year' | 'month' | 'day' | null;
}

export interface RoutingContext {
  silences: readonly Silence[];
  /** Stored alerts of the same companies: the possible inhibition sources. */
  alerts: Iterable<Alert>;
  inhibitors: readonly Inhibitor[];
}

const rank = (s: Severity) => SEVERITIES.indexOf(s);
const PERIOD_LENGTH = { year: 4, month: 7, day: 10 } as const;

export function route(revisions: readonly Revision[], context: RoutingContext): Revision[] {
  const inhibitors = new Map(context.inhibitors.map((i) => [i.rule_id, i]));
  // The freshest state of every alert: this batch's revisions over what was stored.
  const current = new Map<string, Alert>();
  for (const alert of context.alerts) current.set(alert.id, alert);
  for (const { alert } of revisions) current.set(alert.id, alert);
  const sources = [...current.values()].filter((a) => inhibitors.has(a.rule_id) && a.status !== 'resolved' && a.mode === 'active');

  return revisions.map(({ alert, change }) => {
    const silenced_by = context.silences.filter((s) => silenceMatches(s, alert)).map((s) => s.id);
    const source = sources.find((s) => inhibits(inhibitors.get(s.rule_id)!, s, alert));
    return { alert: { ...alert, silenced_by, inhibited_by: source?.id ?? '' }, change };
  });
}

function inhibits(rule: Inhibitor, source: Alert, target: Alert): boolean {
  if (source.rule_id === target.rule_id || rank(target.severity) >= rank(rule.severity)) return false;
  if (!rule.equal.every((field) => source[field] === target[field])) return false;
  if (!rule.period) return true;
  const length = PERIOD_LENGTH[rule.period];
  return calendarDate(Date.parse(source.anchor_at)).slice(0, length) === calendarDate(Date.parse(target.anchor_at)).slice(0, length);
}

/** Whether a revision reaches people at all. */
export const deliverable = (alert: Alert) => alert.mode === 'active' && alert.silenced_by.length === 0 && alert.inhibited_by === '';
