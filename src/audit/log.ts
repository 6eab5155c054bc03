import { fromClickHouseTime, type Storage } from '../storage/index.js';
import { auditEntryOf, auditPage, auditRow, insertAuditEntries, type AuditFilters } from '../storage/tables/audit-log.js';
import { tokenAudit, type AuditEntry, type TokenChange } from './model.js';

export type { AuditFilters } from '../storage/tables/audit-log.js';

export interface AuditQuery extends AuditFilters {
  limit: number;
  /** next_cursor of the previous page. */
  cursor?: string;
}

export interface AuditPage {
  items: AuditEntry[];
  next_cursor: string | null;
}

/**
 * The audit log in ClickHouse (`audit_log`, migration 6, src/storage/tables/audit-log.ts): keyed by the
 * entry's id, read with FINAL, so an entry written twice (a retried action, two processes expiring one
 * silence) is one entry.
 */
export function createAuditLog(storage: Storage) {
  async function record(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await insertAuditEntries(storage, entries.map(auditRow));
  }

  return {
    record,

    /** Newest first by (at, id), keyset-paginated. Throws a RangeError for a cursor this log did not issue. */
    async query(q: AuditQuery): Promise<AuditPage> {
      const { limit, cursor, ...filters } = q;
      const after = cursor === undefined ? undefined : decodeAuditCursor(cursor);
      if (after === null) throw new RangeError('not a cursor this service issued');
      // One more than asked: whether it comes back says whether there is a next page.
      const rows = await auditPage(storage, { filters, limit: limit + 1, after });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(auditEntryOf),
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
