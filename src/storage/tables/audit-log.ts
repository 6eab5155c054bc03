import { z } from 'zod';
import { AUDIT_ACTIONS, AUDIT_TARGET_KINDS, redact, type AuditAction, type AuditEntry, type AuditTargetKind } from '../../audit/model.js';
import { fromClickHouseTime, toClickHouseTime, type Storage } from '../port.js';
import { column, columnsOf, namedQuery, type Statement } from './query.js';

/**
 * `audit_log` (migrations 6 and 12): one row per person's action (src/audit). The id is derived from the action
 * (kind:target:revision), so a retried write folds and the latest attempt wins (ReplacingMergeTree(at), read
 * with FINAL). The fields before and after are JSON. `recorded_at` (the server's clock at insert, a column
 * default) is left out: nothing reads it, it is there for whoever inspects the table.
 */
const Fields = z.record(z.string(), z.unknown());

export const AuditRow = z.object({
  id: z.string(),
  at: column.time,
  actor: z.string(),
  actor_role: z.string(),
  action: z.enum(AUDIT_ACTIONS),
  target_kind: z.enum(AUDIT_TARGET_KINDS),
  target_id: z.string(),
  region: z.string(),
  revision: column.uint64,
  before: column.json(Fields),
  after: column.json(Fields),
  note: z.string(),
  request_id: z.string(),
  /** Migration 12: the acting token, its holder's unit, whether an office shares it; entries before read '', '' and false. */
  actor_token: z.string(),
  actor_unit: z.string(),
  actor_shared: z.boolean(),
});
export type AuditRow = z.output<typeof AuditRow>;
export type AuditInsert = z.input<typeof AuditRow>;

/** An entry as a row; fields named like credentials are dropped whatever the caller passed (defence in depth). */
export const auditRow = (entry: AuditEntry): AuditInsert => ({
  ...entry,
  at: toClickHouseTime(new Date(entry.at)),
  before: JSON.stringify(redact(entry.before)),
  after: JSON.stringify(redact(entry.after)),
});

export const auditEntryOf = (row: AuditRow): AuditEntry => ({ ...row, at: fromClickHouseTime(row.at).toISOString() });

export const insertAuditEntries = (storage: Storage, rows: readonly AuditInsert[]) => storage.insert('audit_log', rows);

export interface AuditFilters {
  actor?: string;
  action?: AuditAction;
  target_kind?: AuditTargetKind;
  target_id?: string;
  /** Prefix of the division code: 37 (province), 3714 (city), 371402 (county). */
  region_prefix?: string;
  /** On `at`: from inclusive, to exclusive. */
  from?: Date;
  to?: Date;
}

// Fixed SQL per filter; only the values vary, and they travel as parameters.
const FILTER_SQL: Record<keyof AuditFilters, string> = {
  actor: 'actor = {actor:String}',
  action: 'action = {action:String}',
  target_kind: 'target_kind = {target_kind:String}',
  target_id: 'target_id = {target_id:String}',
  region_prefix: 'startsWith(region, {region_prefix:String})',
  from: "at >= {from:DateTime64(3, 'UTC')}",
  to: "at < {to:DateTime64(3, 'UTC')}",
};

/** Newest first by (at, id), after a position in that order (`at` as DateTime64(3) text). */
export const auditPage = namedQuery({
  name: 'audit_log.page',
  row: AuditRow,
  statement: ({ filters, limit, after }: { filters: AuditFilters; limit: number; after?: { at: string; id: string } }) => {
    const conditions: string[] = [];
    const values: Statement['values'] = { limit };
    for (const [name, value] of Object.entries(filters) as Array<[keyof AuditFilters, unknown]>) {
      if (value === undefined) continue;
      conditions.push(FILTER_SQL[name]);
      values[name] = value instanceof Date ? toClickHouseTime(value) : value;
    }
    if (after) {
      conditions.push(`(at, id) < ({after_at:DateTime64(3, 'UTC')}, {after_id:String})`);
      Object.assign(values, { after_at: after.at, after_id: after.id });
    }
    return {
      sql: `SELECT ${columnsOf(AuditRow)} FROM audit_log FINAL
            WHERE ${conditions.join(' AND ') || '1'}
            ORDER BY at DESC, id DESC
            LIMIT {limit:UInt32}`,
      values,
    };
  },
});
