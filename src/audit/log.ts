import { fromClickHouseTime, toClickHouseTime, type Row, type Storage } from '../storage/index.js';
import { redact, tokenAudit, type AuditAction, type AuditEntry, type AuditTargetKind, type TokenChange } from './model.js';

/**
 * The audit log in ClickHouse (`audit_log`, migration 6): a ReplacingMergeTree
 * keyed by the entry's id, read with FINAL, so an entry written twice (a
 * retried action, two processes expiring one silence) is one entry.
 */
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

export interface AuditQuery extends AuditFilters {
  limit: number;
  /** next_cursor of the previous page. */
  cursor?: string;
}

export interface AuditPage {
  items: AuditEntry[];
  next_cursor: string | null;
}

export function createAuditLog(storage: Storage) {
  async function record(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await storage.insert('audit_log', entries.map(toRow));
  }

  return {
    record,

    /** Newest first by (at, id), keyset-paginated. Throws a RangeError for a cursor this log did not issue. */
    async query(q: AuditQuery): Promise<AuditPage> {
      const { limit, cursor, ...filters } = q;
      const conditions: string[] = [];
      const params: Record<string, unknown> = { limit: limit + 1 };
      for (const [name, value] of Object.entries(filters) as Array<[keyof AuditFilters, unknown]>) {
        if (value === undefined) continue;
        conditions.push(FILTER_SQL[name]);
        params[name] = value instanceof Date ? toClickHouseTime(value) : value;
      }
      if (cursor !== undefined) {
        const after = decodeAuditCursor(cursor);
        if (!after) throw new RangeError('not a cursor this service issued');
        conditions.push(`(at, id) < ({after_at:DateTime64(3, 'UTC')}, {after_id:String})`);
        Object.assign(params, { after_at: after.at, after_id: after.id });
      }
      const rows = await storage.query<AuditRow>(
        `SELECT ${COLUMNS} FROM audit_log FINAL
         WHERE ${conditions.join(' AND ') || '1'}
         ORDER BY at DESC, id DESC
         LIMIT {limit:UInt32}`,
        params,
      );
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(fromRow),
        next_cursor: rows.length > limit && last ? encodeCursor({ at: last.at, id: last.id }) : null,
      };
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;

/**
 * For the token module: records a token created or revoked (actor, token id,
 * name, role, jurisdiction; never the token or its hash). Call it before the
 * token's own write, like the stores do, so no change goes unrecorded; a
 * retry folds on the id `token:<id>:create|revoke`.
 */
export function recordTokenChange(audit: AuditLog, change: TokenChange): Promise<void> {
  return audit.record([tokenAudit(change)]);
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

const COLUMNS = 'id, at, actor, actor_role, actor_token, actor_unit, actor_shared, action, target_kind, target_id, region, revision, before, after, note, request_id';

type AuditRow = Omit<AuditEntry, 'before' | 'after' | 'revision' | 'actor_shared'> & { before: string; after: string; revision: number | string; actor_shared: boolean | number };

function toRow(entry: AuditEntry): Row {
  return {
    ...entry,
    at: toClickHouseTime(new Date(entry.at)),
    before: JSON.stringify(redact(entry.before)),
    after: JSON.stringify(redact(entry.after)),
  };
}

function fromRow(row: AuditRow): AuditEntry {
  return {
    ...row,
    at: fromClickHouseTime(row.at).toISOString(),
    revision: Number(row.revision),
    actor_shared: row.actor_shared === true || Number(row.actor_shared) === 1,
    before: JSON.parse(row.before),
    after: JSON.parse(row.after),
  };
}

/** Position after the last entry of a page, in (at, id) DESC order; `at` as ClickHouse prints it. */
interface AuditCursor {
  at: string;
  id: string;
}

const encodeCursor = (c: AuditCursor) => Buffer.from(JSON.stringify([c.at, c.id])).toString('base64url');

export function decodeAuditCursor(text: string): AuditCursor | null {
  try {
    const [at, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (typeof at !== 'string' || typeof id !== 'string') return null;
    if (Number.isNaN(fromClickHouseTime(at).getTime())) return null;
    return { at, id };
  } catch {
    return null;
  }
}
