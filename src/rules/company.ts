import type { CompanyFacts, EngineEvent } from './events.js';

/** A company without reference data is known by its id and the region its events name. */
export function companyOf(id: string, facts: ReadonlyMap<string, CompanyFacts>, events: ReadonlyMap<string, readonly EngineEvent[]>): CompanyFacts {
  return facts.get(id) ?? {
    enterprise_id: id, name: id, region: events.get(id)?.[0]?.region ?? '', credit_grade: null, whitelisted: false, quiet_days: null, deregistered_on: null,
  };
}
