import type { Event } from '../ingest/schema.js';
import type { Enterprise } from '../ingest/schema.js';

/**
 * An event as the engine sees it: one per company (a plan naming three
 * companies is three of these, like the `events` table), times in epoch ms.
 */
export interface EngineEvent {
  id: string;
  type: Event['type'];
  enterprise_id: string;
  occurred_at: number;
  region: string;
  source: string;
  agency_id: string;
  officer_ids: string[];
  action: string;
  method: string;
  onsite: boolean;
  plan_id: string;
  urgent_reason: string;
  started_at: number | null;
  outcome: string;
  window_start: string | null;
  window_end: string | null;
  mode: string;
  status: string;
  joint_agency_ids: string[];
  category: string;
  channel: string;
}

/** What rules may know about a company; null fields when no reference data was sent. */
export interface CompanyFacts {
  enterprise_id: string;
  name: string;
  region: string;
  credit_grade: Enterprise['credit_grade'] | null;
  exempt: boolean;
  quiet_days: number[] | null;
}

/** The columns of `events` the engine reads (see `EVENT_COLUMNS`). */
export const EVENT_COLUMNS = [
  'id', 'type', 'enterprise_id', 'occurred_at', 'region', 'source', 'agency_id', 'officer_ids', 'action', 'method',
  'onsite', 'plan_id', 'urgent_reason', 'started_at', 'outcome', 'window_start', 'window_end', 'mode', 'status',
  'joint_agency_ids', 'category', 'channel',
] as const;

type Raw = Record<(typeof EVENT_COLUMNS)[number], unknown>;

const ms = (t: unknown) => (t == null ? null : Date.parse(String(t).replace(' ', 'T') + 'Z'));
const str = (v: unknown) => (v == null ? '' : String(v));

/** From a row of `events` as ClickHouse returns it (DateTime64 as 'YYYY-MM-DD hh:mm:ss.sss' UTC). */
export function fromStoredRow(row: Raw): EngineEvent {
  return {
    id: str(row.id),
    type: str(row.type) as EngineEvent['type'],
    enterprise_id: str(row.enterprise_id),
    occurred_at: ms(row.occurred_at)!,
    region: str(row.region),
    source: str(row.source),
    agency_id: str(row.agency_id),
    officer_ids: (row.officer_ids as string[] | null) ?? [],
    action: str(row.action),
    method: str(row.method),
    onsite: row.onsite === true || row.onsite === 1 || row.onsite === 'true',
    plan_id: str(row.plan_id),
    urgent_reason: str(row.urgent_reason),
    started_at: ms(row.started_at),
    outcome: str(row.outcome),
    window_start: row.window_start == null ? null : str(row.window_start),
    window_end: row.window_end == null ? null : str(row.window_end),
    mode: str(row.mode),
    status: str(row.status),
    joint_agency_ids: (row.joint_agency_ids as string[] | null) ?? [],
    category: str(row.category),
    channel: str(row.channel),
  };
}

/** From a validated event, for rule tests and backtests of events not stored. */
export function fromEvent(event: Event): EngineEvent[] {
  const base: EngineEvent = {
    id: event.id, type: event.type, enterprise_id: '', occurred_at: Date.parse(event.occurred_at), region: event.region,
    source: event.source, agency_id: event.agency_id ?? '', officer_ids: [], action: '', method: '', onsite: false,
    plan_id: '', urgent_reason: '', started_at: null, outcome: '', window_start: null, window_end: null, mode: '',
    status: '', joint_agency_ids: [], category: '', channel: '',
  };
  switch (event.type) {
    case 'checkin':
      return [{
        ...base, enterprise_id: event.enterprise_id, officer_ids: event.officer_ids, action: event.action, method: event.method,
        onsite: event.onsite, plan_id: event.plan_id ?? '', urgent_reason: event.urgent_reason ?? '',
      }];
    case 'inspection':
      return [{
        ...base, enterprise_id: event.enterprise_id, officer_ids: event.officer_ids, onsite: event.onsite,
        plan_id: event.plan_id ?? '', started_at: Date.parse(event.started_at), outcome: event.outcome ?? '',
      }];
    case 'plan':
      return [...new Set(event.enterprise_ids)].map((enterprise_id) => ({
        ...base, enterprise_id, window_start: event.window_start, window_end: event.window_end, mode: event.mode,
        onsite: event.mode === 'onsite', status: event.status, joint_agency_ids: event.joint_agency_ids ?? [],
      }));
    case 'complaint':
      return [{ ...base, enterprise_id: event.enterprise_id, category: event.category, channel: event.channel }];
  }
}

export const byTime = (a: EngineEvent, b: EngineEvent) => a.occurred_at - b.occurred_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Expands a company's quiet_period override (negatives count from the month's end). */
export function companyFacts(e: Pick<Enterprise, 'enterprise_id' | 'name' | 'region' | 'credit_grade' | 'exempt' | 'quiet_period'>): CompanyFacts {
  return {
    enterprise_id: e.enterprise_id, name: e.name, region: e.region, credit_grade: e.credit_grade, exempt: e.exempt ?? false,
    quiet_days: e.quiet_period?.days_of_month ?? null,
  };
}
