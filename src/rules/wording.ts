import { MINUTE, timestamp } from '../calendar/index.js';
import { remembered } from '../collections.js';
import type { Localized } from '../alerts/model.js';
import type { RuleKind } from './schema.js';

/** The placeholders a rule's title and message may use, beyond its own parameters. */
export const TEMPLATE_VARIABLES: Record<'common' | RuleKind, readonly string[]> = {
  common: ['enterprise_name', 'enterprise_id', 'agency_name', 'agency_id', 'region', 'count', 'first', 'last', 'window_start', 'window_end'],
  threshold: ['at_least', 'max_in_window', 'window_days', 'period'],
  absence: ['anchor', 'searched_from', 'searched_to', 'matched', 'matched_at', 'deadline', 'exemption', 'urgent_reason', 'missing_officers', 'missing_count'],
  calendar: ['anchor', 'day', 'period_days', 'since', 'officers', 'exemption', 'urgent_reason', 'deadline'],
  cap: ['limit', 'grade', 'period', 'not_counted', 'not_counted_basis'],
  presence: ['anchor', 'matched', 'matched_at'],
  score: ['anchor', 'score', 'level', 'threshold'],
  duration: ['anchor', 'duration_minutes', 'measured'],
  together: ['plan_id', 'first_agency', 'first_arrival', 'arrival', 'late_minutes', 'arrivals', 'together_by'],
  execution: ['plan_id', 'plan_window', 'agencies', 'due'],
  overlap: ['plan_a', 'plan_b', 'other_agency_id', 'other_agency_name', 'same_agency', 'overlap_start', 'overlap_end', 'overlap_days'],
};

const PLACEHOLDER = /\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}/g;

export const templateNames = (template: string): string[] => [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);

/** Fills {{name}} placeholders; numbers of ms since the epoch are not guessed at: times arrive formatted. */
export function render(template: Localized, values: Record<string, unknown>): Localized {
  const fill = (text: string) => text.replace(PLACEHOLDER, (_, name: string) => show(values[name]));
  return { zh: fill(template.zh), en: fill(template.en) };
}

const show = (value: unknown): string => {
  if (value === undefined || value === null) return '—';
  if (Array.isArray(value)) return value.join(', ');
  return String(value);
};

// Every trigger's finding names its anchor and the span searched (three of these each), and most fall in a few minutes.
const minuteText = remembered(100_000, (minute: number) => timestamp(minute * MINUTE).slice(0, 16).replace('T', ' '));

/** A time as people in the commission read it: Shanghai wall clock to the minute. */
export const readableTime = (ms: number): string => minuteText(Math.floor(ms / MINUTE));
