import { createAuditLog, revisionAudit, type AuditAction, type AuditContext, type AuditEntry, type AuditLog } from '../audit/index.js';
import type { Lease, Locks } from '../redis/lock.js';
import { isClickHouseTime, type Storage } from '../storage/index.js';
import {
  insertTicketChanges, insertTickets, lastTicketSerial, rank, storedTicketIds, ticketById, ticketChangeOf, ticketChangeRow, ticketHistory, ticketOf, ticketPage, ticketRow,
  type TicketFilters,
} from '../storage/tables/tickets.js';
import { asOf, claimLapsed, lapse, type TicketRevision } from './lifecycle.js';
import { ticketNumber, type Ticket, type TicketAction, type TicketChange } from './model.js';

export type { TicketFilters } from '../storage/tables/tickets.js';

export interface TicketPage {
  items: Ticket[];
  next_cursor: string | null;
}

export const ticketLock = (id: string) => `ticket:${id}`;

/**
 * Tickets in ClickHouse: `tickets` holds every revision and the highest wins
 * (ReplacingMergeTree(revision), read with FINAL); `ticket_changes` is the
 * history, notes included. Every write happens under the ticket's lock after
 * re-reading it, so concurrent actions are applied one after the other.
 */
export function createTicketStore(storage: Storage, locks: Locks, audit: AuditLog = createAuditLog(storage)) {
  /** The ticket as stored (a lapsed claim still shows until its release is recorded). */
  async function stored(id: string): Promise<Ticket | null> {
    const [row] = await ticketById(storage, { id });
    return row ? ticketOf(row) : null;
  }

  /** `audited`: the audit entries of people's actions among the revisions. */
  async function save(revisions: readonly TicketRevision[], audited: readonly AuditEntry[] = []): Promise<void> {
    if (revisions.length === 0) return;
    // Audit and history first: if a later insert fails, the ticket keeps its
    // old revision, the caller retries, and the repeated rows fold (same ids).
    await audit.record(audited);
    await insertTicketChanges(storage, revisions.map((r) => ticketChangeRow(r.ticket, r.change)));
    await insertTickets(storage, revisions.map((r) => ticketRow(r.ticket)));
  }

  return {
    save,

    /** Which of these tickets are stored. */
    async storedIds(ids: readonly string[]): Promise<Set<string>> {
      return new Set(ids.length === 0 ? [] : (await storedTicketIds(storage, { ids })).map((row) => row.id));
    },

    /** The ticket as it stands now: a lapsed claim counts as none. */
    async get(id: string, now = new Date()): Promise<Ticket | null> {
      const ticket = await stored(id);
      return ticket && asOf(ticket, now);
    },

    /** Runs fn holding the tickets' locks; every write of a ticket goes through here or `act` (after `lease.ensure()`). */
    lockedAll<T>(ids: readonly string[], fn: (lease: Lease) => Promise<T>): Promise<T> {
      return locks.withLocks(ids.map(ticketLock), fn);
    },

    /**
     * Applies an action: under the ticket's lock, re-read it, record the
     * release of a lapsed claim first (so the history shows why the holder
     * changed), transition (null: nothing to change), run `before` with the
     * new revision (e.g. schedule a timer it relies on), save. Answers the
     * ticket as it now stands, or null when there is no such ticket; the
     * transition's errors pass through and nothing is saved. With `context`
     * the action is a person's: its audit entry is saved with the revision.
     */
    async act(
      id: string,
      transition: (ticket: Ticket, now: Date) => TicketRevision | null,
      before?: (revision: TicketRevision) => Promise<void>,
      context?: AuditContext,
    ): Promise<Ticket | null> {
      return locks.withLocks([ticketLock(id)], async (lease) => {
        const ticket = await stored(id);
        if (!ticket) return null;
        const now = new Date();
        const revisions = claimLapsed(ticket, now) ? [lapse(ticket, now)] : [];
        const current = revisions[0]?.ticket ?? ticket;
        const revision = transition(current, now);
        const audited: AuditEntry[] = [];
        if (revision) {
          await before?.(revision);
          revisions.push(revision);
          if (context) audited.push(ticketAudit(current, revision, context));
        }
        lease.ensure();
        await save(revisions, audited);
        return revisions.at(-1)?.ticket ?? ticket;
      });
    },

    /** Queue order: urgent first, then oldest first; keyset-paginated. */
    async list(filters: TicketFilters, limit: number, after?: TicketCursor, now = new Date()): Promise<TicketPage> {
      const rows = await ticketPage(storage, { filters, limit: limit + 1, now, after });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((row) => asOf(ticketOf(row), now)),
        next_cursor: rows.length > limit && last ? encodeCursor({ rank: rank(last.priority), created_at: last.created_at, id: last.id }) : null,
      };
    },

    /** The highest serial numbered on a Shanghai day (YYYY-MM-DD) so far, 0 for none: where the day's counter starts. */
    async lastSerial(day: string): Promise<number> {
      const [row] = await lastTicketSerial(storage, { prefix: ticketNumber(day, 0).slice(0, -4) });
      return row?.last ?? 0;
    },

    /** Every change, oldest first. */
    async history(id: string): Promise<TicketChange[]> {
      return (await ticketHistory(storage, { id })).map(ticketChangeOf);
    },
  };
}

export type TicketStore = ReturnType<typeof createTicketStore>;

/** Position after the last item of a page, in queue order. */
export interface TicketCursor {
  rank: number;
  /** As ClickHouse prints DateTime64(3, 'UTC'). */
  created_at: string;
  id: string;
}

const encodeCursor = (c: TicketCursor) => Buffer.from(JSON.stringify([c.rank, c.created_at, c.id])).toString('base64url');

export function decodeCursor(text: string): TicketCursor | null {
  try {
    const [rank, created_at, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 0 || rank > 255) return null;
    if (typeof created_at !== 'string' || typeof id !== 'string') return null;
    if (!isClickHouseTime(created_at)) return null;
    return { rank, created_at, id };
  } catch {
    return null;
  }
}

const AUDIT_ACTIONS: Partial<Record<TicketAction, AuditAction>> = {
  claimed: 'ticket.claim', released: 'ticket.release', assigned: 'ticket.assign', categorised: 'ticket.categorise',
  note: 'ticket.note', callback: 'ticket.callback', resolved: 'ticket.resolve', reopened: 'ticket.reopen',
};

function ticketAudit(before: Ticket, { ticket, change }: TicketRevision, context: AuditContext): AuditEntry {
  const action = AUDIT_ACTIONS[change.action];
  if (!action) throw new Error(`ticket action ${change.action} is not a person's`);
  return revisionAudit({
    target_kind: 'ticket', target_id: ticket.id, revision: ticket.revision, action, actor: change.actor, at: change.at,
    region: ticket.region, note: change.note, before, after: ticket, context,
  });
}
