import { z } from 'zod';
import {
  ALERT_ACTIONS, ALERT_MODES, ALERT_STATUSES, CHANNELS, CLEARED, RESOLUTION_CODES, SEVERITIES,
  type Alert, type AlertChange, type AlertStatus, type Severity,
} from '../../alerts/model.js';
import { fromClickHouseTime, toClickHouseTime, type Storage } from '../port.js';
import { CREDIT_CODE_SHAPE } from '../../ingest/credit-code.js';
import { column, columnsOf, literalList, namedQuery, type Statement } from './query.js';

/**
 * `alerts` (migrations 3 and 4): every revision of every alert; the highest revision wins
 * (ReplacingMergeTree(revision), read with FINAL). Not partitioned, so all revisions of an alert always fold
 * together; ordered by company because the engine reads a batch of companies' alerts at a time.
 * An alert is stored flat: its texts per language, times as DateTime64(3), evidence, figures and params as JSON.
 */
const Evidence = z.object({
  event_id: z.string(),
  type: z.string(),
  occurred_at: z.string(),
  role: z.string(),
  visit: z.number().int().optional(),
});

export const AlertRow = z.object({
  id: z.string(),
  fingerprint: z.string(),
  rule_id: z.string(),
  rule_version: z.number().int(),
  variant: z.string(),
  severity: z.enum(SEVERITIES),
  mode: z.enum(ALERT_MODES),
  channels: z.array(z.enum(CHANNELS)),
  title_zh: z.string(),
  title_en: z.string(),
  message_zh: z.string(),
  message_en: z.string(),
  region: z.string(),
  enterprise_id: z.string(),
  agency_id: z.string(),
  officer_ids: z.array(z.string()),
  window_start: column.time,
  window_end: column.time,
  anchor_at: column.time,
  first_seen_at: column.time,
  last_seen_at: column.time,
  count: z.number().int(),
  evidence: column.json(z.array(Evidence)),
  figures: column.json(z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))),
  params: column.json(z.record(z.string(), z.unknown())),
  status: z.enum(ALERT_STATUSES),
  resolution: z.enum([...RESOLUTION_CODES, CLEARED, '']),
  resolution_note: z.string(),
  resolved_by: z.string(),
  resolved_at: column.time.nullable(),
  acknowledged_by: z.string(),
  acknowledged_at: column.time.nullable(),
  raised_at: column.time,
  updated_at: column.time,
  /** Migration 4: how the revision was routed. */
  silenced_by: z.array(z.string()),
  inhibited_by: z.string(),
  escalation: z.number().int(),
  revision: column.uint64,
});
export type AlertRow = z.output<typeof AlertRow>;
export type AlertInsert = z.input<typeof AlertRow>;

const TIME_FIELDS = ['window_start', 'window_end', 'anchor_at', 'first_seen_at', 'last_seen_at', 'raised_at', 'updated_at'] as const;
const NULLABLE_TIME_FIELDS = ['resolved_at', 'acknowledged_at'] as const;

export function alertRow(alert: Alert): AlertInsert {
  const { title, message, evidence, figures, params, ...rest } = alert;
  const row: AlertInsert = {
    ...rest,
    title_zh: title.zh,
    title_en: title.en,
    message_zh: message.zh,
    message_en: message.en,
    evidence: JSON.stringify(evidence),
    figures: JSON.stringify(figures),
    params: JSON.stringify(params),
  };
  for (const field of TIME_FIELDS) row[field] = chTime(alert[field]);
  for (const field of NULLABLE_TIME_FIELDS) row[field] = alert[field] === null ? null : chTime(alert[field]);
  return row;
}

export function alertOf(row: AlertRow): Alert {
  const { title_zh, title_en, message_zh, message_en, ...rest } = row;
  const alert: Alert = { ...rest, title: { zh: title_zh, en: title_en }, message: { zh: message_zh, en: message_en } };
  for (const field of TIME_FIELDS) alert[field] = isoTime(row[field]);
  for (const field of NULLABLE_TIME_FIELDS) alert[field] = row[field] === null ? null : isoTime(row[field]);
  return alert;
}

export const insertAlerts = (storage: Storage, rows: readonly AlertInsert[]) => storage.insert('alerts', rows);

const selectAlerts = (where: string, values: Statement['values']): Statement => ({
  sql: `SELECT ${columnsOf(AlertRow)} FROM alerts FINAL WHERE ${where}`, values,
});

export const alertsByIds = namedQuery({
  name: 'alerts.byIds',
  row: AlertRow,
  statement: (values: { ids: readonly string[] }) => selectAlerts('id IN {ids:Array(String)}', values),
});

/** Every alert (any status) of these companies, of these rules only when given. */
export const alertsOfCompanies = namedQuery({
  name: 'alerts.ofCompanies',
  row: AlertRow,
  // Credit codes as literals where they are (events.ts, eventsInSpans): the engine reads this for every chunk.
  statement: ({ enterpriseIds }: { enterpriseIds: readonly string[] }) => {
    const ids = literalList(enterpriseIds, CREDIT_CODE_SHAPE);
    return ids !== null ? selectAlerts(`enterprise_id IN ${ids}`, {}) : selectAlerts('enterprise_id IN {ids:Array(String)}', { ids: enterpriseIds });
  },
});

export interface AlertFilters {
  rule?: string;
  severity?: Severity;
  status?: AlertStatus;
  mode?: Alert['mode'];
  /** Prefix of the 6-digit division code: 37 (province), 3714 (city), 371402 (county). */
  region?: string;
  agency?: string;
  enterprise?: string;
  /** One of the alert's officers. */
  officer?: string;
  variant?: string;
  /** On first_seen_at (event time): from inclusive, to exclusive. */
  from?: Date;
  to?: Date;
}

// Fixed SQL per filter; only the values vary, and they travel as parameters.
const FILTER_SQL: Record<keyof AlertFilters, string> = {
  rule: 'rule_id = {rule:String}',
  severity: 'severity = {severity:String}',
  status: 'status = {status:String}',
  mode: 'mode = {mode:String}',
  region: 'startsWith(region, {region:String})',
  agency: 'agency_id = {agency:String}',
  enterprise: 'enterprise_id = {enterprise:String}',
  officer: 'has(officer_ids, {officer:String})',
  variant: 'variant = {variant:String}',
  from: "first_seen_at >= {from:DateTime64(3, 'UTC')}",
  to: "first_seen_at < {to:DateTime64(3, 'UTC')}",
};

/** Newest first by (first_seen_at, id), after a position in that order (first_seen_at as DateTime64(3) text). */
export const alertPage = namedQuery({
  name: 'alerts.page',
  row: AlertRow,
  statement: ({ filters, limit, after }: { filters: AlertFilters; limit: number; after?: { first_seen_at: string; id: string } }) => {
    const conditions: string[] = [];
    const values: Statement['values'] = { limit };
    for (const [name, value] of Object.entries(filters) as Array<[keyof AlertFilters, unknown]>) {
      if (value === undefined) continue;
      conditions.push(FILTER_SQL[name]);
      values[name] = value instanceof Date ? toClickHouseTime(value) : value;
    }
    if (after) {
      conditions.push(`(first_seen_at, id) < ({after_time:DateTime64(3, 'UTC')}, {after_id:String})`);
      Object.assign(values, { after_time: after.first_seen_at, after_id: after.id });
    }
    return {
      sql: `SELECT ${columnsOf(AlertRow)} FROM alerts FINAL
            WHERE ${conditions.join(' AND ') || '1'}
            ORDER BY first_seen_at DESC, id DESC
            LIMIT {limit:UInt32}`,
      values,
    };
  },
});

/**
 * `alert_changes` (migration 3): an alert's history, one row per revision. Rule, severity, region, agency and
 * company are copied in so dashboards can group changes without a join; a retried insert of the same revision folds.
 */
export const AlertChangeRow = z.object({
  alert_id: z.string(),
  revision: column.uint64,
  at: column.time,
  actor: z.string(),
  action: z.enum(ALERT_ACTIONS),
  from_status: z.enum([...ALERT_STATUSES, '']),
  to_status: z.enum(ALERT_STATUSES),
  note: z.string(),
  rule_id: z.string(),
  severity: z.enum(SEVERITIES),
  region: z.string(),
  agency_id: z.string(),
  enterprise_id: z.string(),
});
export type AlertChangeInsert = z.input<typeof AlertChangeRow>;

export function alertChangeRow(alert: Alert, change: AlertChange): AlertChangeInsert {
  const { rule_id, severity, region, agency_id, enterprise_id } = alert;
  return { ...change, at: chTime(change.at), rule_id, severity, region, agency_id, enterprise_id };
}

export const insertAlertChanges = (storage: Storage, rows: readonly AlertChangeInsert[]) => storage.insert('alert_changes', rows);

/** The change itself, without what is copied in for dashboards. */
const ChangeOnly = AlertChangeRow.pick({
  alert_id: true, revision: true, at: true, actor: true, action: true, from_status: true, to_status: true, note: true,
});
export const alertChangeOf = (row: z.output<typeof ChangeOnly>): AlertChange => ({ ...row, at: isoTime(row.at) });

/** The alert's changes, oldest first. */
export const alertHistory = namedQuery({
  name: 'alert_changes.history',
  row: ChangeOnly,
  statement: (values: { id: string }) => ({
    sql: `SELECT ${columnsOf(ChangeOnly)} FROM alert_changes FINAL WHERE alert_id = {id:String} ORDER BY revision`, values,
  }),
});

const chTime = (rfc3339: string) => toClickHouseTime(new Date(rfc3339));
const isoTime = (clickhouseTime: string) => fromClickHouseTime(clickhouseTime).toISOString();
