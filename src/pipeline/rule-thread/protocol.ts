import type { Changed, CompanyEvaluation } from '../../rules/engine.js';
import type { CompanyFacts, EngineEvent } from '../../rules/events.js';

/** One company to decide, as the main thread has read it. */
export interface CompanyToEvaluate {
  company: CompanyFacts;
  events: readonly EngineEvent[];
  changed: Changed;
}

/** What the main thread asks the rule thread: decide these companies under the rule set `digest` loaded from `dir`. */
export interface EvaluationRequest {
  id: number;
  digest: string;
  dir: string;
  now: number;
  /** Agencies' names by id, for the alerts' wording. */
  names: ReadonlyMap<string, string>;
  companies: readonly CompanyToEvaluate[];
}

export type EvaluationReply =
  | { id: number; results: CompanyEvaluation[]; timings: Array<[rule: string, seconds: number]> }
  /** The rule files in `dir` no longer make the set asked for (an edit the main thread has not loaded, or refused). */
  | { id: number; unavailable: string }
  | { id: number; error: string };
