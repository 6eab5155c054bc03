import type { CountBound } from '../../storage/tables/events.js';
import type { ResolvedRule } from '../compile.js';
import type { Predicate } from '../conditions.js';
import type { CompanyFacts, EngineEvent } from '../events.js';
import type { EventField } from '../fields.js';
import type { Verdict } from '../findings.js';

export interface KindInput {
  company: CompanyFacts;
  /** The company's events, in event-time order. */
  events: readonly EngineEvent[];
  /** Each plan's versions among `events` (`planVersions`), worked out once for every rule and trigger of the company. */
  planVersions(): ReadonlyMap<string, readonly EngineEvent[]>;
  /** The events a condition accepts, in event-time order: each condition is tried on each event once per company. */
  accepted(condition: Predicate): readonly EngineEvent[];
  /** Decide the alerts anchored in [from, to] (epoch ms). */
  from: number;
  to: number;
  now: number;
}

/** Events of these types (null: any type) with event time in [from, to]. */
export interface Need {
  types: string[] | null;
  from: number;
  to: number;
}

/** What every rule kind provides to the engine. */
export interface Kind {
  evaluate(rule: ResolvedRule, input: KindInput): Verdict;
  /** Anchors whose decision events in [t1, t2] can change. */
  /**
   * Anchors whose decision events in [t1, t2] can change. With `types` (the changed events' types), a kind may
   * leave out what only other types reach (a check-in is no plan: it cannot cover a visit months later).
   */
  decideRange(rule: ResolvedRule, t1: number, t2: number, types?: readonly string[]): [number, number];
  /** Events needed to decide anchors in [from, to]. */
  context(rule: ResolvedRule, from: number, to: number): Need[];
  /** The event fields this kind reads beyond the engine's own (`ENGINE_FIELDS`, src/rules/fields.ts). */
  reads?: readonly EventField[];
  /** For backtests of anchors in [from, to]: a bound on what the rule counts, where its kind has one. */
  reach?(rule: ResolvedRule, from: number, to: number): CountBound | null;
}

export type CountingSpec = 'events' | { visits: { gap_hours: number | string } } | { distinct: 'agency_id' | 'officer_ids' };

/** One thing counted: an event, a visit (see visits.ts), or a distinct value. */
export interface Unit {
  at: number;
  events: EngineEvent[];
}
