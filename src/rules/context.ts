import type { Storage } from '../storage/index.js';
import { agencyNamesAndRegions } from '../storage/tables/agencies.js';
import { companyRows } from '../storage/tables/enterprises.js';
import { eventsInSpans, type Spans } from '../storage/tables/events.js';
import { byTime, fromStoredRow, type CompanyFacts, type EngineEvent } from './events.js';

// What the engine reads from ClickHouse: companies' events (only the types and spans the rules need), their
// reference data and agency names.

/** Each company's events in the spans, in (event time, id) order (`byTime`, as evaluation memory keeps them). */
export async function readEvents(storage: Storage, enterpriseIds: readonly string[], spans: Spans): Promise<Map<string, EngineEvent[]>> {
  const byCompany = new Map<string, EngineEvent[]>();
  if (enterpriseIds.length === 0 || spans.size === 0) return byCompany;
  for (const row of await eventsInSpans(storage, { enterpriseIds, spans })) {
    const event = fromStoredRow(row);
    const own = byCompany.get(event.enterprise_id);
    if (own) own.push(event);
    else byCompany.set(event.enterprise_id, [event]);
  }
  for (const own of byCompany.values()) own.sort(byTime);
  return byCompany;
}

export async function readCompanies(storage: Storage, ids: readonly string[]): Promise<Map<string, CompanyFacts>> {
  if (ids.length === 0) return new Map();
  const rows = await companyRows(storage, { ids });
  return new Map(rows.map((r) => [r.enterprise_id, {
    enterprise_id: r.enterprise_id,
    name: r.name,
    region: r.region,
    credit_grade: r.credit_grade,
    whitelisted: r.whitelisted,
    quiet_days: r.quiet_period?.days_of_month ?? null,
    deregistered_on: r.status === 'deregistered' ? r.deregistered_on : null,
  }]));
}

export async function readAgencyNames(storage: Storage, ids: readonly string[]): Promise<Map<string, string>> {
  return new Map([...await readAgencies(storage, ids)].map(([id, agency]) => [id, agency.name]));
}

/** What a plan check needs of an agency besides its name: where it sits (its level, its neighbours' region). */
export interface AgencyFacts {
  name: string;
  region: string;
}

export async function readAgencies(storage: Storage, ids: readonly string[]): Promise<Map<string, AgencyFacts>> {
  if (ids.length === 0) return new Map();
  return new Map((await agencyNamesAndRegions(storage, { ids })).map((r) => [r.agency_id, { name: r.name, region: r.region }]));
}
