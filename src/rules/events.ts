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
  /** inspection | research | guidance | leader_visit on check-ins and records ('inspection' when not sent); '' otherwise. */
  purpose: string;
  /** A plan's stable identity (its own id unless it names one); the plan a check-in, record or filing names. */
  plan_id: string;
  urgent_reason: string;
  /** 国家另有规定: the national law that requires this visit; '' when none. */
  national_basis: string;
  started_at: number | null;
  /** When an inspection record says the visit ended; null when not sent. */
  ended_at: number | null;
  outcome: string;
  /** 检查事项 of an inspection record or a notice (预告). */
  matters: string[];
  /** 救济途径 and 信用修复流程 of an inspection record ('' when not sent). */
  remedies: string;
  credit_repair: string;
  /** An evaluation's score (0–100); null for other events. */
  score: number | null;
  window_start: string | null;
  window_end: string | null;
  mode: string;
  status: string;
  joint_agency_ids: string[];
  /** The plans a joint plan merges (合并): withdrawn from its filing on; [] otherwise. */
  replaces: string[];
  /** 'justice_bureau' when a plan was reviewed by the justice bureau (烟台 白名单); '' otherwise. */
  reviewed_by: string;
  category: string;
  channel: string;
  /** A filing's kind (quiet_period_check | research | leader_visit), office and approving head; '' otherwise. */
  filing_kind: string;
  filed_with: string;
  approved_by: string;
}

/** What rules may know about a company; null fields when no reference data was sent. */
export interface CompanyFacts {
  enterprise_id: string;
  name: string;
  region: string;
  credit_grade: Enterprise['credit_grade'] | null;
  /** 烟台 白名单: only plans reviewed by the justice bureau count for this company. */
  whitelisted: boolean;
  quiet_days: number[] | null;
  /** 已注销: the day the company was deregistered (YYYY-MM-DD); null while it is active. */
  deregistered_on: string | null;
}

/** The columns of `events` the engine reads (see `EVENT_COLUMNS`). */
export const EVENT_COLUMNS = [
  'id', 'type', 'enterprise_id', 'occurred_at', 'region', 'source', 'agency_id', 'officer_ids', 'action', 'method',
  'onsite', 'purpose', 'plan_id', 'urgent_reason', 'national_basis', 'started_at', 'ended_at', 'outcome', 'matters', 'remedies',
  'credit_repair', 'score', 'window_start', 'window_end', 'mode', 'status', 'joint_agency_ids', 'replaces', 'reviewed_by', 'category',
  'channel', 'filing_kind', 'filed_with', 'approved_by',
] as const;

type Raw = Record<(typeof EVENT_COLUMNS)[number], unknown>;

const ms = (t: unknown) => (t == null ? null : Date.parse(String(t).replace(' ', 'T') + 'Z'));
const str = (v: unknown) => (v == null ? '' : String(v));
const VISIT_TYPES: ReadonlySet<string> = new Set(['checkin', 'inspection']);

/**
 * From a row of `events` as ClickHouse returns it (DateTime64 as 'YYYY-MM-DD hh:mm:ss.sss' UTC). Rows stored
 * before these columns existed read '': the contract's defaults are applied here, as ingest applies them now.
 */
export function fromStoredRow(row: Raw): EngineEvent {
  const id = str(row.id);
  const type = str(row.type) as EngineEvent['type'];
  return {
    id,
    type,
    enterprise_id: str(row.enterprise_id),
    occurred_at: ms(row.occurred_at)!,
    region: str(row.region),
    source: str(row.source),
    agency_id: str(row.agency_id),
    officer_ids: (row.officer_ids as string[] | null) ?? [],
    action: str(row.action),
    method: str(row.method),
    onsite: row.onsite === true || row.onsite === 1 || row.onsite === 'true',
    purpose: str(row.purpose) || (VISIT_TYPES.has(type) ? 'inspection' : ''),
    plan_id: str(row.plan_id) || (type === 'plan' ? id : ''),
    urgent_reason: str(row.urgent_reason),
    national_basis: str(row.national_basis),
    started_at: ms(row.started_at),
    ended_at: ms(row.ended_at),
    outcome: str(row.outcome),
    matters: (row.matters as string[] | null) ?? [],
    remedies: str(row.remedies),
    credit_repair: str(row.credit_repair),
    score: row.score == null ? null : Number(row.score),
    window_start: row.window_start == null ? null : str(row.window_start),
    window_end: row.window_end == null ? null : str(row.window_end),
    mode: str(row.mode),
    status: str(row.status),
    joint_agency_ids: (row.joint_agency_ids as string[] | null) ?? [],
    replaces: (row.replaces as string[] | null) ?? [],
    reviewed_by: str(row.reviewed_by),
    category: str(row.category),
    channel: str(row.channel),
    filing_kind: str(row.filing_kind),
    filed_with: str(row.filed_with),
    approved_by: str(row.approved_by),
  };
}

/** From a validated event, for rule tests and backtests of events not stored. */
export function fromEvent(event: Event): EngineEvent[] {
  const base: EngineEvent = {
    id: event.id, type: event.type, enterprise_id: '', occurred_at: Date.parse(event.occurred_at), region: event.region,
    source: event.source, agency_id: event.agency_id ?? '', officer_ids: [], action: '', method: '', onsite: false,
    purpose: '', plan_id: '', urgent_reason: '', national_basis: '', started_at: null, ended_at: null, outcome: '', matters: [],
    remedies: '', credit_repair: '', score: null, window_start: null,
    window_end: null, mode: '', status: '', joint_agency_ids: [], replaces: [], reviewed_by: '', category: '', channel: '',
    filing_kind: '', filed_with: '', approved_by: '',
  };
  switch (event.type) {
    case 'checkin':
      return [{
        ...base, enterprise_id: event.enterprise_id, officer_ids: event.officer_ids, action: event.action, method: event.method,
        onsite: event.onsite, purpose: event.purpose, plan_id: event.plan_id ?? '',
        urgent_reason: event.urgent_reason ?? '', national_basis: event.national_basis ?? '',
      }];
    case 'inspection':
      return [{
        ...base, enterprise_id: event.enterprise_id, officer_ids: event.officer_ids, onsite: event.onsite,
        purpose: event.purpose, plan_id: event.plan_id ?? '', urgent_reason: event.urgent_reason ?? '',
        national_basis: event.national_basis ?? '', started_at: Date.parse(event.started_at),
        ended_at: event.ended_at ? Date.parse(event.ended_at) : null, outcome: event.outcome ?? '', matters: event.matters ?? [],
        remedies: event.remedies ?? '', credit_repair: event.credit_repair ?? '',
      }];
    case 'plan':
      return [...new Set(event.enterprise_ids)].map((enterprise_id) => ({
        ...base, enterprise_id, plan_id: event.plan_id ?? event.id, window_start: event.window_start, window_end: event.window_end,
        mode: event.mode, onsite: event.mode === 'onsite', status: event.status, joint_agency_ids: event.joint_agency_ids ?? [],
        replaces: event.replaces ?? [], reviewed_by: event.reviewed_by ?? '', urgent_reason: event.urgent_reason ?? '',
      }));
    case 'complaint':
      return [{ ...base, enterprise_id: event.enterprise_id, category: event.category, channel: event.channel }];
    case 'filing':
      return [{
        ...base, enterprise_id: event.enterprise_id, window_start: event.visit_date, window_end: event.visit_date,
        plan_id: event.plan_id ?? '', filing_kind: event.kind, filed_with: event.filed_with, approved_by: event.approved_by ?? '',
      }];
    case 'notice':
      // Like a filing, the day noticed is a one-day window: `covers` finds the notice for the visit's day.
      return [{
        ...base, enterprise_id: event.enterprise_id, officer_ids: event.officer_ids, matters: event.matters,
        window_start: event.visit_date, window_end: event.visit_date, plan_id: event.plan_id ?? '', channel: event.channel ?? '',
      }];
    case 'evaluation':
      return [{ ...base, enterprise_id: event.enterprise_id, score: event.score, channel: event.channel }];
  }
}

export const byTime = (a: EngineEvent, b: EngineEvent) => a.occurred_at - b.occurred_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Expands a company's quiet_period override (negatives count from the month's end). */
export function companyFacts(
  e: Pick<Enterprise, 'enterprise_id' | 'name' | 'region' | 'credit_grade' | 'whitelisted' | 'quiet_period'> & Partial<Pick<Enterprise, 'status' | 'deregistered_on'>>,
): CompanyFacts {
  return {
    enterprise_id: e.enterprise_id, name: e.name, region: e.region, credit_grade: e.credit_grade, whitelisted: e.whitelisted ?? false,
    quiet_days: e.quiet_period?.days_of_month ?? null,
    deregistered_on: e.status === 'deregistered' ? e.deregistered_on ?? null : null,
  };
}
