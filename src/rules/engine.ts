import { DAY, midnight } from '../calendar/index.js';
import type { AlertCandidate } from '../alerts/model.js';
import type { Scope } from '../alerts/lifecycle.js';
import type { CompiledRule, ResolvedRule } from './compile.js';
import type { Predicate } from './conditions.js';
import type { CompanyFacts, EngineEvent } from './events.js';
import { ENGINE_FIELDS, type EventField } from './fields.js';
import { toCandidates, type Naming } from './findings.js';
import { planVersions } from './plans.js';
import { absence } from './kinds/absence.js';
import { calendar } from './kinds/calendar.js';
import { cap } from './kinds/cap.js';
import { overlap } from './kinds/overlap.js';
import { duration } from './kinds/duration.js';
import { execution } from './kinds/execution.js';
import { presence } from './kinds/presence.js';
import { score } from './kinds/score.js';
import { threshold } from './kinds/threshold.js';
import { together } from './kinds/together.js';
import type { CountBound } from '../storage/tables/events.js';
import type { Kind, Need } from './kinds/types.js';

const KINDS: Record<CompiledRule['spec']['kind'], Kind> = { threshold, absence, calendar, cap, presence, score, duration, together, execution, overlap };

/** What new events can change: the span of their times (their own, an inspection's start, a plan's dates) and their types. */
export interface Changed {
  from: number;
  to: number;
  /** The events' types; unknown (a deferred decision) when absent. */
  types?: readonly string[];
}

export function influence(events: readonly EngineEvent[]): { from: number; to: number; types: string[] } {
  let from = Infinity;
  let to = -Infinity;
  for (const e of events) {
    const points = [e.occurred_at, e.started_at ?? e.occurred_at];
    if (e.window_start && e.window_end) points.push(midnight(e.window_start), midnight(e.window_end) + DAY - 1);
    from = Math.min(from, ...points);
    to = Math.max(to, ...points);
  }
  return { from, to, types: [...new Set(events.map((e) => e.type))] };
}

export interface CompanyEvaluation {
  candidates: AlertCandidate[];
  /** Where alerts were re-decided: stored alerts there that are no longer supported get cleared. */
  scopes: Scope[];
  /** Decisions waiting for late events: decide `anchor` again at instant `at`. */
  pending: Array<{ rule_id: string; at: number; anchor: number }>;
}

export interface CompanyInput {
  company: CompanyFacts;
  /** The company's events in event-time order (at least what `contextNeeds` asked for). */
  events: readonly EngineEvent[];
  /** The span new events influence: the alerts they can change are re-decided. */
  changed: Changed | null;
  /** Instead of `changed`: decide exactly the alerts anchored here (backtests). */
  anchors?: { from: number; to: number };
  now: number;
  naming: Naming;
}

/** Told how long each rule took to decide a company (for metrics). */
export type RuleTimer = (ruleId: string, seconds: number) => void;

export function evaluateCompany(rules: readonly CompiledRule[], input: CompanyInput, timed?: RuleTimer): CompanyEvaluation {
  const out: CompanyEvaluation = { candidates: [], scopes: [], pending: [] };
  // Every trigger that looks for a plan asks what stood at its anchor: the versions are sorted out once.
  let versions: ReadonlyMap<string, readonly EngineEvent[]> | undefined;
  const versionsOfPlans = () => (versions ??= planVersions(input.events));
  // Every trigger of a rule looks for what one condition accepts: with each trigger trying it on every event, a
  // company's same-day check-ins cost the square of their number (wrk's single-event load: 178 req/s).
  const acceptedBy = new Map<Predicate, readonly EngineEvent[]>();
  const accepted = (condition: Predicate) => {
    let events = acceptedBy.get(condition);
    if (!events) acceptedBy.set(condition, (events = input.events.filter(condition)));
    return events;
  };
  for (const compiled of rules) {
    const rule = compiled.forRegion(input.company.region);
    if (!rule) continue;
    const kind = KINDS[rule.spec.kind];
    const [from, to] = input.anchors
      ? [input.anchors.from, input.anchors.to]
      : input.changed ? kind.decideRange(rule, input.changed.from, input.changed.to, input.changed.types) : [-Infinity, Infinity];
    const started = performance.now();
    const verdict = kind.evaluate(rule, { company: input.company, events: input.events, planVersions: versionsOfPlans, accepted, from, to, now: input.now });
    timed?.(rule.spec.id, (performance.now() - started) / 1000);
    out.candidates.push(...toCandidates(rule, input.company, verdict.findings, input.naming));
    out.scopes.push({ rule_id: rule.spec.id, enterprise_id: input.company.enterprise_id, from, to });
    const seen = new Set<string>();
    for (const p of verdict.pending) {
      if (seen.has(`${p.at}/${p.anchor}`)) continue;
      seen.add(`${p.at}/${p.anchor}`);
      out.pending.push({ rule_id: rule.spec.id, ...p });
    }
  }
  return out;
}

/** What to read so that `evaluateCompany` can decide everything new events in `changed` influence. */
export function contextNeeds(rules: readonly CompiledRule[], region: string, changed: Changed): Need[] {
  return rules.flatMap((compiled) => {
    const rule = compiled.forRegion(region);
    if (!rule) return [];
    const kind = KINDS[rule.spec.kind];
    const [from, to] = kind.decideRange(rule, changed.from, changed.to, changed.types);
    return kind.context(rule, from, to);
  });
}

/** What to read to decide the alerts anchored in [from, to] (backtests). */
export function anchorNeeds(rules: readonly CompiledRule[], region: string, anchors: { from: number; to: number }): Need[] {
  return rules.flatMap((compiled) => {
    const rule = compiled.forRegion(region);
    if (!rule) return [];
    return KINDS[rule.spec.kind].context(rule, anchors.from, anchors.to);
  });
}

/**
 * The event fields these rules read wherever they are in force: the engine's own, their kinds' and their conditions'.
 * A backtest reads only these columns (src/rules/fields.ts).
 */
export function eventFields(rules: readonly CompiledRule[]): EventField[] {
  const fields = new Set<EventField>(ENGINE_FIELDS);
  for (const rule of everywhere(rules)) {
    for (const field of KINDS[rule.spec.kind].reads ?? []) fields.add(field);
    for (const field of rule.conditionFields) fields.add(field);
  }
  return [...fields];
}

/** Each rule as resolved in each region that places it (with its defaults where no policy map places rules). */
const everywhere = (rules: readonly CompiledRule[]): ResolvedRule[] =>
  rules.flatMap((compiled) => (compiled.placement?.map((p) => p.prefix) ?? ['']).map((region) => compiled.forRegion(region)!));

/**
 * For a backtest of anchors in [from, to]: one bound on what these rules count wherever they are in force (the
 * loosest of their regions' parameters), or null where any of them has none.
 */
export function anchorReach(rules: readonly CompiledRule[], anchors: { from: number; to: number }): CountBound | null {
  const reaches = everywhere(rules).map((rule) => KINDS[rule.spec.kind].reach?.(rule, anchors.from, anchors.to) ?? null);
  if (reaches.length === 0 || reaches.some((r) => r === null)) return null;
  const all = reaches as CountBound[];
  const types = all.some((r) => r.types === null) ? null : [...new Set(all.flatMap((r) => r.types!))];
  // A shorter interval per agency still holds at most one visit's start each.
  const perAgency = all.some((r) => r.perAgencyMs === undefined) ? {} : { perAgencyMs: Math.min(...all.map((r) => r.perAgencyMs!)) };
  return {
    types,
    from: Math.min(...all.map((r) => r.from)),
    to: Math.max(...all.map((r) => r.to)),
    windowDays: Math.max(...all.map((r) => r.windowDays)),
    atLeast: Math.min(...all.map((r) => r.atLeast)),
    ...perAgency,
  };
}

/** Merges needs per event type into one span each (null types: every type). */
export function mergeNeeds(needs: readonly Need[]): Map<string | null, { from: number; to: number }> {
  const merged = new Map<string | null, { from: number; to: number }>();
  for (const need of needs) {
    for (const type of need.types ?? [null]) {
      const span = merged.get(type);
      merged.set(type, span ? { from: Math.min(span.from, need.from), to: Math.max(span.to, need.to) } : { from: need.from, to: need.to });
    }
  }
  return merged;
}
