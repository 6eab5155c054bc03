import type { EngineEvent } from './events.js';

/** A field of an event as the engine sees it; each is a column of `events` by the same name. */
export type EventField = keyof EngineEvent;

/**
 * What the engine reads of an event whatever the rule: its identity and times (`evaluateCompany`, `influence`), its
 * region (`companyOf` places a company without reference data by it), what an alert names (`toCandidates`: agency,
 * officers), and what the kinds' shared parts read: a plan's versions and what it covers (plans.ts), visits
 * (visits.ts), expectations and their exemptions (expectation.ts, exemptions.ts). A kind adds what it alone reads
 * (`Kind.reads`), a rule the fields its conditions test. A backtest reads no other column; the rule tests run with
 * any other read refused (`refusingOthers`), so a kind that reads a field it does not declare fails its rules' tests
 * instead of judging an empty value.
 */
export const ENGINE_FIELDS: readonly EventField[] = [
  'id', 'type', 'enterprise_id', 'region', 'occurred_at', 'started_at', 'window_start', 'window_end', 'agency_id', 'officer_ids',
  'action', 'onsite', 'plan_id', 'status', 'replaces', 'joint_agency_ids', 'urgent_reason', 'matters',
];

/**
 * The event with only `fields` of its own; reading any other field throws, naming it. Rule tests only: each event
 * is copied field by field. A copy spread from it (`standingAt` dates a plan so) holds those fields alone and reads
 * any other as undefined, without throwing.
 */
export function refusingOthers(fields: ReadonlySet<EventField>): (event: EngineEvent) => EngineEvent {
  const refusals = Object.create(null) as object;
  return (event) => {
    for (const field of Object.keys(event)) {
      if (fields.has(field as EventField) || Object.hasOwn(refusals, field)) continue;
      Object.defineProperty(refusals, field, {
        get: () => {
          throw new UndeclaredFieldError(field);
        },
      });
    }
    const kept = Object.create(refusals) as Record<string, unknown>;
    for (const field of fields) kept[field] = event[field];
    return kept as unknown as EngineEvent;
  };
}

export class UndeclaredFieldError extends Error {
  constructor(readonly field: string) {
    super(`reads the event field "${field}", which neither the engine, its kind (Kind.reads) nor its conditions declare (src/rules/fields.ts)`);
    this.name = 'UndeclaredFieldError';
  }
}
