import type { Enterprise, Event } from '../ingest/schema.js';
import type { EngineEventRead } from '../storage/tables/events.js';

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
  officer_ids: readonly string[];
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
  /** 检查事项 of an inspection record, a notice (预告) or a plan (plans stored before 2026-12-05's seventh session read []: their JSON has them). */
  matters: readonly string[];
  /** 救济途径 and 信用修复流程 of an inspection record ('' when not sent). */
  remedies: string;
  credit_repair: string;
  /** An evaluation's score (0–100); null for other events. */
  score: number | null;
  window_start: string | null;
  window_end: string | null;
  mode: string;
  status: string;
  joint_agency_ids: readonly string[];
  /** The plans a joint plan merges (合并): withdrawn from its filing on; [] otherwise. */
  replaces: readonly string[];
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

/**
 * A DateTime64(3) as ClickHouse prints it ('YYYY-MM-DD hh:mm:ss.sss', UTC, checked by the row's schema), read digit
 * by digit: rewriting it for Date.parse made two strings per time read.
 */
const ms = (t: string) => Date.UTC(digits(t, 0, 4), digits(t, 5, 2) - 1, digits(t, 8, 2), digits(t, 11, 2), digits(t, 14, 2), digits(t, 17, 2), digits(t, 20, 3));

function digits(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) value = value * 10 + text.charCodeAt(i) - 48;
  return value;
}
const VISIT_TYPES: ReadonlySet<string> = new Set(['checkin', 'inspection']);

/**
 * A bounded pool of shared instances by key. Past POOL_MAX entries it starts again: it only saves memory, so
 * forgetting is safe. (No callback per lookup: it runs for every field of every event read.)
 */
const POOL_MAX = 100_000;
function boundedPool<T>() {
  const held = new Map<string, T>();
  return {
    get: (key: string) => held.get(key),
    keep(key: string, value: T): T {
      if (held.size >= POOL_MAX) held.clear();
      held.set(key, value);
      return value;
    },
  };
}

/**
 * One instance of each string that repeats across events (types, regions, sources, agencies, officers, plans, dates,
 * remedies texts): evaluation memory holds hundreds of thousands of events, and each row read or parsed brings its
 * own copies (in a heap snapshot of `bench:rules`, 84 of 130 MB of strings were copies).
 */
const strings = boundedPool<string>();
const shared = (value: string | undefined): string => (value === undefined ? '' : strings.get(value) ?? strings.keep(value, value));
/** Most events name no matters, joint agencies or merged plans: they share one empty list, which nothing may change. */
const NONE: readonly string[] = Object.freeze([]);
/**
 * One frozen instance of each list that repeats (the same officers go out together, the same matters are checked),
 * keyed by its JSON so that ['a,b'] and ['a', 'b'] stay apart: in a heap snapshot of `bench:rules`' 5,000 events/s
 * phase, 466,647 arrays for 320,513 events held in memory.
 */
const lists = boundedPool<readonly string[]>();
function sharedList(values: readonly string[] | undefined): readonly string[] {
  if (values === undefined || values.length === 0) return NONE;
  const key = JSON.stringify(values);
  return lists.get(key) ?? lists.keep(key, Object.freeze(values.map(shared)));
}

/**
 * From a validated row of `events` (DateTime64 as 'YYYY-MM-DD hh:mm:ss.sss' UTC). Rows stored before these
 * columns existed read '': the contract's defaults are applied here, as ingest applies them now. A backtest reads
 * only the columns its rule reads (`eventFields`, src/rules/fields.ts) and leaves the others empty. Every field is
 * named (no spread of the row), so every event has the same shape with its fields in the object itself. Strings
 * and lists are kept by `text` and `list`: shared for what evaluation memory holds, as read for what is dropped.
 */
const eventFromRow = (text: (value: string | undefined) => string, list: (values: readonly string[] | undefined) => readonly string[]) => (row: EngineEventRead): EngineEvent => ({
  id: row.id,
  type: text(row.type) as EngineEvent['type'],
  enterprise_id: text(row.enterprise_id),
  occurred_at: ms(row.occurred_at),
  region: text(row.region),
  source: text(row.source),
  agency_id: text(row.agency_id),
  officer_ids: list(row.officer_ids),
  action: text(row.action),
  method: text(row.method),
  onsite: row.onsite ?? false,
  purpose: text(row.purpose || (VISIT_TYPES.has(row.type) ? 'inspection' : '')),
  // Shared: the check-ins, records and filings of one plan name it. In heap snapshots 10 s into `bench:rules`'
  // 5,000 events/s phase, 541,283 strings of event ids for 300,392 ids, and 365,527 once these were shared.
  plan_id: row.plan_id ? text(row.plan_id) : row.type === 'plan' ? row.id : '',
  urgent_reason: text(row.urgent_reason),
  national_basis: text(row.national_basis),
  started_at: row.started_at == null ? null : ms(row.started_at),
  ended_at: row.ended_at == null ? null : ms(row.ended_at),
  outcome: text(row.outcome),
  matters: list(row.matters),
  remedies: text(row.remedies),
  credit_repair: text(row.credit_repair),
  score: row.score ?? null,
  window_start: row.window_start == null ? null : text(row.window_start),
  window_end: row.window_end == null ? null : text(row.window_end),
  mode: text(row.mode),
  status: text(row.status),
  joint_agency_ids: list(row.joint_agency_ids),
  replaces: list(row.replaces),
  reviewed_by: text(row.reviewed_by),
  category: text(row.category),
  channel: text(row.channel),
  filing_kind: text(row.filing_kind),
  filed_with: text(row.filed_with),
  approved_by: text(row.approved_by),
});

/** An event to hold in evaluation memory: its repeated strings and lists shared with the other events'. */
export const fromStoredRow = eventFromRow(shared, sharedList);

/**
 * An event evaluated once and dropped (a backtest's slice): strings and lists as read. Looking each up in the
 * pools cost a backtest of frequent-visits 1.8 s of 11.8 (628,148 events) and kept nothing for long.
 */
export const fromStoredRowUnshared = eventFromRow((value) => value ?? '', (values) => (values === undefined || values.length === 0 ? NONE : values));

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
        matters: event.matters ?? [],
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
