import { z } from 'zod';
import { EVENT_TYPES, IDENTIFIER_CHARSET, type Event } from '../../ingest/schema.js';
import { toClickHouseTime, type Storage } from '../port.js';
import { CREDIT_CODE_SHAPE } from '../../ingest/credit-code.js';
import { CLICKHOUSE_TIME, column, columnsOf, literal, literalList, namedQuery, parseRows } from './query.js';

/**
 * `events` (migrations 1, 8, 10 and 11): one row per event and company (a plan naming three companies is three rows
 * with one id), typed columns for what rules and dashboards filter on, and the accepted JSON as `payload` for
 * evidence and the public record. ReplacingMergeTree folds a retried insert of the same (company, time, id);
 * reads use FINAL because folding happens at merge time.
 *
 * The schema is of a row as read: every column present. `stored_at` (DEFAULT now64(3), the engine's clock at
 * insert) is left out: only ClickHouse writes it and no query here reads it.
 */
export const EventRow = z.object({
  id: z.string(),
  type: z.enum(EVENT_TYPES),
  enterprise_id: z.string(),
  occurred_at: column.time,
  received_at: column.time,
  region: z.string(),
  source: z.string(),
  agency_id: z.string(),
  officer_ids: z.array(z.string()),
  action: z.string(),
  method: z.string(),
  onsite: z.boolean(),
  /** Migration 8, like national_basis, reviewed_by and the filing columns: rows stored before it read ''. */
  purpose: z.string(),
  plan_id: z.string(),
  urgent_reason: z.string(),
  national_basis: z.string(),
  started_at: column.time.nullable(),
  ended_at: column.time.nullable(),
  outcome: z.string(),
  /** Migration 11: an inspection record's or a notice's 检查事项, a record's 救济途径 and 信用修复流程, an evaluation's score. */
  matters: z.array(z.string()),
  remedies: z.string(),
  credit_repair: z.string(),
  score: z.number().nullable(),
  window_start: column.date.nullable(),
  window_end: column.date.nullable(),
  mode: z.string(),
  status: z.string(),
  joint_agency_ids: z.array(z.string()),
  /** Migration 10: the plans a joint plan merges (合并). */
  replaces: z.array(z.string()),
  reviewed_by: z.string(),
  category: z.string(),
  channel: z.string(),
  checkin_id: z.string(),
  filing_kind: z.string(),
  filed_with: z.string(),
  approved_by: z.string(),
  payload: z.string(),
});
export type EventRow = z.output<typeof EventRow>;

/**
 * What the table holds in a column an insert leaves out (ClickHouse's defaults for these types). Kept out of
 * the schema: zod's defaults double the cost of validating the rows the engine reads (bench/table-rows.ts).
 */
const EVENT_DEFAULTS = {
  officer_ids: [], action: '', method: '', onsite: false, purpose: '', plan_id: '', urgent_reason: '', national_basis: '',
  started_at: null, ended_at: null, outcome: '', matters: [], remedies: '', credit_repair: '', score: null, window_start: null, window_end: null, mode: '', status: '',
  joint_agency_ids: [], replaces: [], reviewed_by: '', category: '', channel: '', checkin_id: '', filing_kind: '', filed_with: '', approved_by: '',
} satisfies Partial<EventRow>;

/** A row as an insert sends it: columns with a default may be left out. */
export type EventInsert = Omit<EventRow, keyof typeof EVENT_DEFAULTS> & Partial<EventRow>;

const COLUMNS = Object.keys(EventRow.shape) as Array<keyof EventRow>;

/** An insert row as the table will hold it once stored. */
// A field the event does not carry (an envelope queued by an older version, before the field existed) takes the
// table's default, as the insert's missing column does. Every column in one order, so that every row shares one
// shape: spreading the defaults and the row cost 20 µs a row, 4% of the main thread at 5,000 events/s
// (bench:rules --cpu-prof); this costs a fifth of that.
export function asStored(row: EventInsert): Record<keyof EventRow, unknown> {
  const stored = {} as Record<keyof EventRow, unknown>;
  for (const column of COLUMNS) {
    const value = row[column];
    stored[column] = value === undefined ? EVENT_DEFAULTS[column as keyof typeof EVENT_DEFAULTS] : value;
  }
  return stored;
}

/** The columns the rule engine reads: everything but the accepted JSON, the arrival time and what no rule uses. */
export const EngineEventRow = EventRow.omit({ received_at: true, checkin_id: true, payload: true });
export type EngineEventRow = z.output<typeof EngineEventRow>;

/** A column the engine reads: each is its event's field of the same name (src/rules/events.ts). */
export type EngineEventColumn = keyof EngineEventRow;
const ENGINE_COLUMNS: ReadonlySet<string> = new Set(Object.keys(EngineEventRow.shape));
/** What every read of events for the engine holds: without these a row is no event. */
const IDENTITY = ['id', 'type', 'enterprise_id', 'occurred_at'] as const;

/** A row read with every column of `EngineEventRow` or some of them (`eventsInSpans` with `columns`). */
export type EngineEventRead = Pick<EngineEventRow, (typeof IDENTITY)[number]> & Partial<EngineEventRow>;

/** Columns given by name, each checked: they are written into the SQL. */
function engineColumns(columns: readonly string[]): string {
  const unknown = columns.find((name) => !ENGINE_COLUMNS.has(name));
  if (unknown !== undefined) throw new Error(`events: no column "${unknown}" for the engine`);
  const missing = IDENTITY.find((name) => !columns.includes(name));
  if (missing !== undefined) throw new Error(`events: a read of some columns must hold ${IDENTITY.join(', ')}; "${missing}" is missing`);
  return columns.join(', ');
}

/** The event without the caller's contact, which belongs to the 12345 ticket alone (the public record and evidence never show it). */
function publicPart(event: Event): Event {
  if (event.type !== 'complaint' || !event.complainant) return event;
  const { complainant: _kept_on_the_ticket, ...rest } = event;
  return rest;
}

/** An event as rows of `events`: one per company it concerns. */
export function eventRows(event: Event, receivedAt: string): EventInsert[] {
  const occurred_at = time(event.occurred_at);
  const received_at = time(receivedAt);
  const payload = JSON.stringify(publicPart(event));
  // Object.assign, not `{ ...base, … }`: Node 20's V8 takes a slow path for a spread followed by more properties,
  // 8 µs a row against 0.15 (bench/event-rows.ts; docs/performance.md, 2026-12-06).
  const row = <T extends object>(columns: T) => Object.assign({
    id: event.id, type: event.type, occurred_at, received_at, region: event.region, source: event.source, agency_id: event.agency_id ?? '', payload,
  }, columns);
  switch (event.type) {
    case 'checkin':
      return [row({
        enterprise_id: event.enterprise_id,
        officer_ids: event.officer_ids,
        action: event.action,
        method: event.method,
        onsite: event.onsite,
        purpose: event.purpose,
        plan_id: event.plan_id ?? '',
        urgent_reason: event.urgent_reason ?? '',
        national_basis: event.national_basis ?? '',
      })];
    case 'inspection':
      return [row({
        enterprise_id: event.enterprise_id,
        officer_ids: event.officer_ids,
        onsite: event.onsite,
        purpose: event.purpose,
        plan_id: event.plan_id ?? '',
        urgent_reason: event.urgent_reason ?? '',
        national_basis: event.national_basis ?? '',
        started_at: time(event.started_at),
        ended_at: event.ended_at ? time(event.ended_at) : null,
        outcome: event.outcome ?? '',
        matters: event.matters ?? [],
        remedies: event.remedies ?? '',
        credit_repair: event.credit_repair ?? '',
      })];
    case 'plan':
      return [...new Set(event.enterprise_ids)].map((enterprise_id) => row({
        enterprise_id,
        plan_id: event.plan_id ?? event.id,
        window_start: event.window_start,
        window_end: event.window_end,
        mode: event.mode,
        onsite: event.mode === 'onsite',
        status: event.status,
        joint_agency_ids: event.joint_agency_ids ?? [],
        replaces: event.replaces ?? [],
        reviewed_by: event.reviewed_by ?? '',
        urgent_reason: event.urgent_reason ?? '',
        matters: event.matters ?? [],
      }));
    case 'complaint':
      return [row({
        enterprise_id: event.enterprise_id,
        category: event.category,
        channel: event.channel,
        checkin_id: event.checkin_id ?? '',
      })];
    case 'filing':
      // The visit's day as a one-day window, so a company's filings are found by the day they cover.
      return [row({
        enterprise_id: event.enterprise_id,
        window_start: event.visit_date,
        window_end: event.visit_date,
        plan_id: event.plan_id ?? '',
        filing_kind: event.kind,
        filed_with: event.filed_with,
        approved_by: event.approved_by ?? '',
      })];
    case 'notice':
      // The day noticed as a one-day window, like a filing's visit day.
      return [row({
        enterprise_id: event.enterprise_id,
        officer_ids: event.officer_ids,
        matters: event.matters,
        window_start: event.visit_date,
        window_end: event.visit_date,
        plan_id: event.plan_id ?? '',
        channel: event.channel ?? '',
      })];
    case 'evaluation':
      return [row({
        enterprise_id: event.enterprise_id,
        score: event.score,
        channel: event.channel,
      })];
  }
}

const time = (rfc3339: string) => toClickHouseTime(new Date(rfc3339));

export const insertEvents = (storage: Storage, rows: readonly EventInsert[]) => storage.insert('events', rows);

/** Event-time spans per event type (null: any type), in epoch ms: what an evaluation or a backtest reads. */
export type Spans = ReadonlyMap<string | null, { from: number; to: number }>;

const EARLIEST = Date.parse('2000-01-01T00:00:00Z');
const LATEST = Date.parse('2100-01-01T00:00:00Z');
/** A span's end as the queries below hold it: event times are stored from 2000 to 2100. */
export const clampToStored = (ms: number) => Math.min(LATEST, Math.max(EARLIEST, ms));

/** Events of each type (null: any type) in its span, as a WHERE clause; `time` and `type` write each value into it. */
function spanClause(spans: Spans, time: (at: string, name: string) => string, type: (value: string, name: string) => string): string {
  const clauses = [...spans].map(([eventType, span], i) => {
    const at = (ms: number, name: string) => time(toClickHouseTime(new Date(clampToStored(ms))), name);
    const window = `occurred_at BETWEEN ${at(span.from, `from${i}`)} AND ${at(span.to, `to${i}`)}`;
    return eventType === null ? `(${window})` : `(type = ${type(eventType, `type${i}`)} AND ${window})`;
  });
  return clauses.length > 0 ? `(${clauses.join(' OR ')})` : '0';
}

/** The clause with every value bound, and its parameters. */
export function spanFilter(spans: Spans): { sql: string; params: Record<string, unknown> } {
  const params: Record<string, unknown> = {};
  const bind = (kind: string) => (value: string, name: string) => {
    params[name] = value;
    return `{${name}:${kind}}`;
  };
  return { sql: spanClause(spans, bind("DateTime64(3, 'UTC')"), bind('String')), params };
}

const EVENT_TYPE = new RegExp(`^(${EVENT_TYPES.join('|')})$`);

/** The same clause with every value a checked literal (times of our making, known types), or null: then bind. */
function inlineSpanFilter(spans: Spans): string | null {
  try {
    return spanClause(spans, (at) => `toDateTime64(${literal(at, CLICKHOUSE_TIME)}, 3, 'UTC')`, (value) => literal(value, EVENT_TYPE));
  } catch {
    return null;
  }
}

/**
 * These companies' events in the spans, in no particular order: the engine's context (`readEvents` orders each
 * company's). Sorting in the engine cost it as much CPU as the rest of the read (a backtest's slice of 202,271 rows:
 * 1.0 s with ORDER BY, 0.58 s without). With `byCompany`, each company's rows come together (in id order), so that
 * a backtest's slice thread judges each company as soon as its rows are read and drops them. Companies are named by
 * credit code, checked at ingest, so the query is written with literals (`literalList`) and runs beside the others
 * in the embedded engine; any id of another shape is bound.
 */
export const eventsInSpans = namedQuery({
  name: 'events.inSpans',
  row: EngineEventRow,
  statement: ({ enterpriseIds, spans, byCompany = false, columns }: {
    enterpriseIds: readonly string[]; spans: Spans; byCompany?: boolean; columns?: readonly EngineEventColumn[];
  }) => {
    const ids = literalList(enterpriseIds, CREDIT_CODE_SHAPE);
    const inline = inlineSpanFilter(spans);
    const select = `SELECT ${columns ? engineColumns(columns) : columnsOf(EngineEventRow)} FROM events FINAL`;
    const order = byCompany ? ' ORDER BY enterprise_id' : '';
    if (ids !== null && inline !== null) return { sql: `${select} WHERE enterprise_id IN ${ids} AND ${inline}${order}`, values: {} };
    const filter = spanFilter(spans);
    return { sql: `${select} WHERE enterprise_id IN {ids:Array(String)} AND ${filter.sql}${order}`, values: { ...filter.params, ids: enterpriseIds } };
  },
});

/**
 * Checks rows of `eventsInSpans` read with `columns` (a backtest reads only what its rule reads: the engine writes,
 * and the slice decodes and checks, fewer columns) against those columns' schema.
 */
export function parseEventsInSpans(columns: readonly EngineEventColumn[]): (rows: readonly unknown[]) => EngineEventRead[] {
  engineColumns(columns);
  const schema = EngineEventRow.pick(Object.fromEntries(columns.map((c) => [c, true] as const)) as Record<EngineEventColumn, true>);
  return (rows) => parseRows('events.inSpans', schema, rows) as EngineEventRead[];
}

/**
 * How many rows the spans hold, of every company (without FINAL: a retried row counts twice): more than a backtest
 * reads. Literals where they can be, so that it runs beside the backtest's planning query in the embedded engine.
 */
export const rowsInSpans = namedQuery({
  name: 'events.rowsInSpans',
  row: z.object({ n: column.uint64 }),
  statement: ({ spans }: { spans: Spans }) => {
    const inline = inlineSpanFilter(spans);
    if (inline !== null) return { sql: `SELECT count() AS n FROM events WHERE ${inline}`, values: {} };
    const filter = spanFilter(spans);
    return { sql: `SELECT count() AS n FROM events WHERE ${filter.sql}`, values: filter.params };
  },
});

/**
 * A count that bounds from above what a counting rule can count in any window of `windowDays` Shanghai days, with
 * the least any of its alerts needs (a kind's `reach`): a company whose bound never reaches `atLeast` in the span
 * cannot alert, so a backtest does not read it. Counted: the events of `types` in the span or, with `perAgencyMs`,
 * their agencies' intervals of that length (the visits a gap that long separates start at most once in each; see
 * src/rules/kinds/visits.ts).
 */
export interface CountBound {
  types: readonly string[] | null;
  from: number;
  to: number;
  windowDays: number;
  atLeast: number;
  perAgencyMs?: number;
}

/**
 * Each company with events in the spans and its number of rows (without FINAL: a retried row counts twice), in id
 * order: how a backtest plans its slices. With `regions` (division-code prefixes), only the companies placed in one
 * of them, as the engine places a company (`companyOf`): by its reference data, else by the region its events name
 * (any of them here, a superset: the engine still decides by its first). With `reach`, only the companies whose
 * bound reaches `atLeast` within some `windowDays` days: the only ones a counting rule can alert.
 */
export const rowsPerCompany = namedQuery({
  name: 'events.rowsPerCompany',
  row: z.object({ enterprise_id: z.string(), n: column.uint64 }),
  statement: ({ spans, regions, reach }: { spans: Spans; regions: readonly string[] | null; reach?: CountBound }) => {
    const filter = spanFilter(spans);
    const placed = (region: string) => `arrayExists(prefix -> startsWith(${region}, prefix), {regions:Array(String)})`;
    // GLOBAL: on a cluster the sets are made once, not by each shard from the other tables' shards.
    const inRegions = regions === null ? '' : ` AND enterprise_id GLOBAL IN (
          SELECT enterprise_id FROM enterprises FINAL WHERE ${placed('region')}
          UNION ALL
          SELECT enterprise_id FROM events
          WHERE ${filter.sql} AND ${placed('region')} AND enterprise_id GLOBAL NOT IN (SELECT enterprise_id FROM enterprises))`;
    // The companies a bound lets through are already of the regions: the set is made once, inside the bound's query.
    const reaching = reach ? reachingCompanies(reach, inRegions) : null;
    const companies = reaching ? ` AND enterprise_id GLOBAL IN (${reaching.sql})` : inRegions;
    return {
      sql: `SELECT enterprise_id, count() AS n FROM events WHERE ${filter.sql}${companies} GROUP BY enterprise_id ORDER BY enterprise_id`,
      values: { ...filter.params, ...(regions === null ? {} : { regions }), ...reaching?.values },
    };
  },
});

// Each company's units by day, sorted, and whether `atLeast` of them fall within `windowDays` days. Without FINAL:
// a retried row counts twice, which only widens the bound. An on-site record is placed at its start, as visits are
// (`timeOf` in src/rules/kinds/visits.ts).
function reachingCompanies(p: CountBound, inRegions: string): { sql: string; values: Record<string, unknown> } {
  const ms = p.perAgencyMs === undefined ? 'toUnixTimestamp64Milli(occurred_at)'
    : "toUnixTimestamp64Milli(if(type = 'inspection', ifNull(started_at, occurred_at), occurred_at))";
  const day = `intDiv(${ms} + ${8 * 3_600_000}, ${86_400_000})`;
  const units = p.perAgencyMs === undefined
    ? `SELECT enterprise_id, ${day} AS day FROM events WHERE `
    : `SELECT DISTINCT enterprise_id, agency_id, intDiv(${ms}, {reach_per_agency_ms:UInt64}) AS slot, ${day} AS day FROM events WHERE `;
  const types = p.types === null ? '' : 'type IN {reach_types:Array(String)} AND ';
  return {
    sql: `SELECT enterprise_id FROM (
            SELECT enterprise_id, arraySort(groupArray(day)) AS days
            FROM (${units}${types}occurred_at BETWEEN {reach_from:DateTime64(3, 'UTC')} AND {reach_to:DateTime64(3, 'UTC')}${inRegions})
            GROUP BY enterprise_id)
          WHERE arrayExists((d, i) -> i >= {reach_at_least:UInt32} AND d - days[i - {reach_at_least:UInt32} + 1] < {reach_window_days:UInt32},
            days, arrayEnumerate(days))`,
    values: {
      ...(p.types === null ? {} : { reach_types: p.types }),
      ...(p.perAgencyMs === undefined ? {} : { reach_per_agency_ms: p.perAgencyMs }),
      reach_from: toClickHouseTime(new Date(clampToStored(p.from))),
      reach_to: toClickHouseTime(new Date(clampToStored(p.to))),
      reach_at_least: p.atLeast,
      reach_window_days: p.windowDays,
    },
  };
}

/**
 * One page of a company's events in (occurred_at, id) order after a position: keyset pagination that stays
 * correct while late events arrive, over one key range of the table's (enterprise_id, occurred_at) order.
 * Times are ClickHouse's DateTime64(3) text.
 */
export const timelinePage = namedQuery({
  name: 'events.timelinePage',
  row: EventRow.pick({ id: true, occurred_at: true, received_at: true, payload: true }),
  statement: (p: { enterpriseId: string; from: string; to: string; afterTime: string; afterId: string; limit: number }) => ({
    sql: `SELECT id, occurred_at, received_at, payload
          FROM events FINAL
          WHERE enterprise_id = {enterprise:String}
            AND occurred_at >= {from:DateTime64(3, 'UTC')} AND occurred_at < {to:DateTime64(3, 'UTC')}
            AND (occurred_at, id) > ({after_time:DateTime64(3, 'UTC')}, {after_id:String})
          ORDER BY occurred_at, id
          LIMIT {limit:UInt32}`,
    values: { enterprise: p.enterpriseId, from: p.from, to: p.to, after_time: p.afterTime, after_id: p.afterId, limit: p.limit },
  }),
});

/**
 * The accepted JSON of one company's events with these ids (one row per id). Ids are their senders', so
 * another region may use the same id for an event about its own company: only this company's rows are read.
 */
export const companyPayloads = namedQuery({
  name: 'events.companyPayloads',
  row: EventRow.pick({ id: true, payload: true }),
  statement: (p: { enterpriseId: string; ids: readonly string[] }) => ({
    sql: 'SELECT id, payload FROM events FINAL WHERE enterprise_id = {enterprise:String} AND id IN {ids:Array(String)} LIMIT 1 BY id',
    values: { enterprise: p.enterpriseId, ids: p.ids },
  }),
});

/**
 * Every version of the plans of a region (division-code prefix) any version of which ends in these days
 * (YYYY-MM-DD, both included): a later version may move a plan into the days or out of them.
 */
export const planVersionsEndingIn = namedQuery({
  name: 'events.planVersionsEndingIn',
  row: EngineEventRow,
  statement: (values: { region: string; from: string; to: string }) => ({
    sql: `SELECT ${columnsOf(EngineEventRow)} FROM events FINAL
          WHERE type = 'plan' AND startsWith(region, {region:String})
            AND if(plan_id = '', id, plan_id) GLOBAL IN (
              SELECT if(plan_id = '', id, plan_id) FROM events FINAL
              WHERE type = 'plan' AND startsWith(region, {region:String}) AND window_end BETWEEN {from:Date32} AND {to:Date32})`,
    values,
  }),
});

/** These companies' on-site scans and records whose visit (started_at, else occurred_at) lies in the span, in event-time order. */
export const onsiteVisits = namedQuery({
  name: 'events.onsiteVisits',
  row: EngineEventRow,
  statement: (p: { enterpriseIds: readonly string[]; from: Date; to: Date }) => ({
    sql: `SELECT ${columnsOf(EngineEventRow)} FROM events FINAL
          WHERE type IN ('checkin', 'inspection') AND onsite AND enterprise_id IN {ids:Array(String)}
            AND ifNull(started_at, occurred_at) BETWEEN {from:DateTime64(3, 'UTC')} AND {to:DateTime64(3, 'UTC')}
          ORDER BY occurred_at, id`,
    values: { ids: p.enterpriseIds, from: toClickHouseTime(p.from), to: toClickHouseTime(p.to) },
  }),
});

/** A plan's versions as the engine reads them, with the accepted JSON (its matters are only there). */
const PlanVersionRow = EventRow.omit({ received_at: true, checkin_id: true });

/** Every stored version of a plan (by its plan id) of every company, in event-time order. */
export const planVersionRows = namedQuery({
  name: 'events.planVersions',
  row: PlanVersionRow,
  statement: ({ planId }: { planId: string }) => ({
    sql: `SELECT ${columnsOf(PlanVersionRow)} FROM events FINAL WHERE type = 'plan' AND plan_id = {plan:String} ORDER BY occurred_at, id`,
    values: { plan: planId },
  }),
});

/** How many rows of standing (not cancelled) plans of any company name this plan in `replaces`. */
export const mergingPlanRows = namedQuery({
  name: 'events.mergingPlans',
  row: z.object({ n: column.uint64 }),
  statement: ({ planId }: { planId: string }) => ({
    sql: `SELECT count() AS n FROM events FINAL WHERE type = 'plan' AND status != 'cancelled' AND has(replaces, {plan:String})`,
    values: { plan: planId },
  }),
});

/**
 * One row per id: the latest in event time, as a plan's versions are read (`readPlan` takes the last). An id stored
 * again with another time is two rows FINAL keeps apart; without the order, which one came first was the parts'.
 */
const LATEST_BY_ID = 'ORDER BY id, occurred_at DESC LIMIT 1 BY id';

/** The accepted JSON of plan versions (event ids) of these companies, one row per id: the latest stored (FINAL) at the latest time. */
export const planPayloads = namedQuery({
  name: 'events.planPayloads',
  row: EventRow.pick({ id: true, payload: true }),
  // Literals where they can be (as eventsInSpans): plan checks read this, beside the engine's own reads.
  statement: (p: { enterpriseIds: readonly string[]; ids: readonly string[] }) => {
    const companies = literalList(p.enterpriseIds, CREDIT_CODE_SHAPE);
    const ids = literalList(p.ids, IDENTIFIER_CHARSET);
    if (companies !== null && ids !== null) {
      return { sql: `SELECT id, payload FROM events FINAL WHERE enterprise_id IN ${companies} AND type = 'plan' AND id IN ${ids} ${LATEST_BY_ID}`, values: {} };
    }
    return {
      sql: `SELECT id, payload FROM events FINAL
            WHERE enterprise_id IN {companies:Array(String)} AND type = 'plan' AND id IN {ids:Array(String)} ${LATEST_BY_ID}`,
      values: { companies: p.enterpriseIds, ids: p.ids },
    };
  },
});

/** Companies with events, the most recently stored to first, with how many events each has (approximate: without FINAL, a row stored twice counts twice). */
export const recentlyActive = namedQuery({
  name: 'events.recentlyActive',
  row: z.object({ enterprise_id: z.string(), n: column.uint64 }),
  statement: (values: { limit: number }) => ({
    sql: `SELECT enterprise_id, count() AS n FROM events
          GROUP BY enterprise_id ORDER BY max(stored_at) DESC LIMIT {limit:UInt32}`,
    values,
  }),
});
