import { toClickHouseTime, type Storage } from '../storage/index.js';
import { EVENT_COLUMNS, fromStoredRow, type CompanyFacts, type EngineEvent } from './events.js';

/**
 * What the engine reads from ClickHouse: companies' events (only the types
 * and spans the rules need), their reference data and agency names.
 */
const EARLIEST = Date.parse('2000-01-01T00:00:00Z');
const LATEST = Date.parse('2100-01-01T00:00:00Z');
const clamp = (ms: number) => Math.min(LATEST, Math.max(EARLIEST, ms));

export type Spans = ReadonlyMap<string | null, { from: number; to: number }>;

/** A WHERE clause selecting events of each type (null: any type) in its span, with its parameters. */
export function spanFilter(spans: Spans): { sql: string; params: Record<string, unknown> } {
  const params: Record<string, unknown> = {};
  const clauses = [...spans].map(([type, span], i) => {
    params[`from${i}`] = toClickHouseTime(new Date(clamp(span.from)));
    params[`to${i}`] = toClickHouseTime(new Date(clamp(span.to)));
    const window = `occurred_at BETWEEN {from${i}:DateTime64(3, 'UTC')} AND {to${i}:DateTime64(3, 'UTC')}`;
    if (type === null) return `(${window})`;
    params[`type${i}`] = type;
    return `(type = {type${i}:String} AND ${window})`;
  });
  return { sql: clauses.length > 0 ? `(${clauses.join(' OR ')})` : '0', params };
}

export async function readEvents(storage: Storage, enterpriseIds: readonly string[], spans: Spans): Promise<Map<string, EngineEvent[]>> {
  const byCompany = new Map<string, EngineEvent[]>();
  if (enterpriseIds.length === 0 || spans.size === 0) return byCompany;
  const filter = spanFilter(spans);
  const rows = await storage.query<Parameters<typeof fromStoredRow>[0]>(
    `SELECT ${EVENT_COLUMNS.join(', ')} FROM events FINAL
     WHERE enterprise_id IN {ids:Array(String)} AND ${filter.sql}
     ORDER BY enterprise_id, occurred_at, id`,
    { ...filter.params, ids: enterpriseIds },
  );
  for (const row of rows) {
    const event = fromStoredRow(row);
    const own = byCompany.get(event.enterprise_id);
    if (own) own.push(event);
    else byCompany.set(event.enterprise_id, [event]);
  }
  return byCompany;
}

interface CompanyRow {
  enterprise_id: string;
  name: string;
  region: string;
  credit_grade: CompanyFacts['credit_grade'];
  whitelisted: boolean | number;
  quiet_period: string;
  status: string;
  deregistered_on: string | null;
}

export async function readCompanies(storage: Storage, ids: readonly string[]): Promise<Map<string, CompanyFacts>> {
  if (ids.length === 0) return new Map();
  const rows = await storage.query<CompanyRow>(
    `SELECT enterprise_id, name, region, credit_grade, whitelisted, quiet_period, status, deregistered_on
     FROM enterprises FINAL WHERE enterprise_id IN {ids:Array(String)}`, { ids });
  return new Map(rows.map((r) => [r.enterprise_id, {
    enterprise_id: r.enterprise_id,
    name: r.name,
    region: r.region,
    credit_grade: r.credit_grade,
    whitelisted: r.whitelisted === true || r.whitelisted === 1,
    quiet_days: r.quiet_period ? (JSON.parse(r.quiet_period) as { days_of_month: number[] }).days_of_month : null,
    deregistered_on: r.status === 'deregistered' ? r.deregistered_on : null,
  }]));
}

export async function readAgencyNames(storage: Storage, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await storage.query<{ agency_id: string; name: string }>(
    'SELECT agency_id, name FROM agencies FINAL WHERE agency_id IN {ids:Array(String)}', { ids });
  return new Map(rows.map((r) => [r.agency_id, r.name]));
}
