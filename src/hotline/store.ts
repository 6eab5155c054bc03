import { createAuditLog, revisionAudit, type AuditAction, type AuditContext, type AuditEntry, type AuditLog } from '../audit/index.js';
import type { Locks } from '../redis/lock.js';
import { fromClickHouseTime, isClickHouseTime, toClickHouseTime, type Row, type Storage } from '../storage/index.js';
import { asOf, claimLapsed, lapse, type TicketRevision } from './lifecycle.js';
import { PRIORITIES, ticketNumber, type AssigneeKind, type Satisfaction, type Priority, type Ticket, type TicketAction, type TicketChange, type TicketSource, type TicketState } from './model.js';

/**
 * Tickets in ClickHouse: `tickets` holds every revision and the highest wins
 * (ReplacingMergeTree(revision), read with FINAL); `ticket_changes` is the
 * history, notes included. Every write happens under the ticket's lock after
 * re-reading it, so concurrent actions are applied one after the other.
 */
export interface TicketFilters {
  /** Unset: every ticket that is not resolved. */
  state?: TicketState;
  priority?: Priority;
  category?: string;
  /** Prefix of the 6-digit division code. */
  region?: string;
  source?: TicketSource;
  claimed_by?: string;
  assignee_kind?: AssigneeKind;
}

export interface TicketPage {
  items: Ticket[];
  next_cursor: string | null;
}

export const ticketLock = (id: string) => `ticket:${id}`;

export function createTicketStore(storage: Storage, locks: Locks, audit: AuditLog = createAuditLog(storage)) {
  /** The ticket as stored (a lapsed claim still shows until its release is recorded). */
  async function stored(id: string): Promise<Ticket | null> {
    const [row] = await storage.query<TicketRow>(`SELECT ${TICKET_COLUMNS} FROM tickets FINAL WHERE id = {id:String}`, { id });
    return row ? fromRow(row) : null;
  }

  /** `audited`: the audit entries of people's actions among the revisions. */
  async function save(revisions: readonly TicketRevision[], audited: readonly AuditEntry[] = []): Promise<void> {
    if (revisions.length === 0) return;
    // Audit and history first: if a later insert fails, the ticket keeps its
    // old revision, the caller retries, and the repeated rows fold (same ids).
    await audit.record(audited);
    await storage.insert('ticket_changes', revisions.map(changeRow));
    await storage.insert('tickets', revisions.map((r) => ticketRow(r.ticket)));
  }

  return {
    stored,
    save,

    /** The ticket as it stands now: a lapsed claim counts as none. */
    async get(id: string, now = new Date()): Promise<Ticket | null> {
      const ticket = await stored(id);
      return ticket && asOf(ticket, now);
    },

    /** Runs fn holding the ticket's lock; every write of a ticket goes through here. */
    locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
      return locks.withLocks([ticketLock(id)], fn);
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
      return locks.withLocks([ticketLock(id)], async () => {
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
        await save(revisions, audited);
        return revisions.at(-1)?.ticket ?? ticket;
      });
    },

    /** Queue order: urgent first, then oldest first; keyset-paginated. */
    async list(filters: TicketFilters, limit: number, after?: TicketCursor, now = new Date()): Promise<TicketPage> {
      const conditions: string[] = [filters.state === undefined ? "state != 'resolved'" : `${EFFECTIVE_STATE} = {state:String}`];
      const params: Record<string, unknown> = { now: toClickHouseTime(now), limit: limit + 1 };
      for (const [name, value] of Object.entries(filters) as Array<[keyof TicketFilters, string | undefined]>) {
        if (value === undefined) continue;
        params[name] = value;
        if (name !== 'state') conditions.push(FILTER_SQL[name]);
      }
      if (after) {
        conditions.push(`(${RANK}, created_at, id) > ({after_rank:UInt8}, {after_time:DateTime64(3, 'UTC')}, {after_id:String})`);
        Object.assign(params, { after_rank: after.rank, after_time: after.created_at, after_id: after.id });
      }
      const rows = await storage.query<TicketRow>(
        `SELECT ${TICKET_COLUMNS} FROM tickets FINAL
         WHERE ${conditions.join(' AND ')}
         ORDER BY ${RANK}, created_at, id
         LIMIT {limit:UInt32}`,
        params,
      );
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((row) => asOf(fromRow(row), now)),
        next_cursor: rows.length > limit && last ? encodeCursor({ rank: rank(last.priority), created_at: last.created_at, id: last.id }) : null,
      };
    },

    /** The highest serial numbered on a Shanghai day (YYYY-MM-DD) so far, 0 for none: where the day's counter starts. */
    async lastSerial(day: string): Promise<number> {
      const prefix = ticketNumber(day, 0).slice(0, -4);
      const [row] = await storage.query<{ last: number | string }>(
        `SELECT max(toUInt32OrZero(substring(number, {from:UInt32}))) AS last FROM tickets FINAL WHERE startsWith(number, {prefix:String})`,
        { prefix, from: prefix.length + 1 });
      return Number(row?.last ?? 0);
    },

    /** Every change, oldest first. */
    async history(id: string): Promise<TicketChange[]> {
      const rows = await storage.query<TicketChange & { at: string; revision: number | string }>(
        `SELECT ticket_id, revision, at, actor, action, from_state, to_state, priority, note
         FROM ticket_changes FINAL WHERE ticket_id = {id:String} ORDER BY revision`, { id });
      return rows.map((r) => ({ ...r, revision: Number(r.revision), at: isoTime(r.at) }));
    },
  };
}

export type TicketStore = ReturnType<typeof createTicketStore>;

// Urgent first: the position in the reversed priority list.
const RANK_ORDER = [...PRIORITIES].reverse();
const RANK = `indexOf([${RANK_ORDER.map((p) => `'${p}'`).join(', ')}], priority)`;
const rank = (priority: Priority) => RANK_ORDER.indexOf(priority) + 1;

// A claim that ran out counts as none, whether or not its release is recorded yet.
const EFFECTIVE_STATE = "if(state = 'claimed' AND claimed_until <= {now:DateTime64(3, 'UTC')}, 'new', state)";

// Fixed SQL per filter; only the values vary, and they travel as parameters.
const FILTER_SQL: Record<Exclude<keyof TicketFilters, 'state'>, string> = {
  priority: 'priority = {priority:String}',
  category: 'category = {category:String}',
  region: 'startsWith(region, {region:String})',
  source: 'source = {source:String}',
  claimed_by: "claimed_by = {claimed_by:String} AND claimed_until > {now:DateTime64(3, 'UTC')}",
  assignee_kind: 'assignee_kind = {assignee_kind:String}',
};

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

const TICKET_COLUMNS = `id, source, source_id, alert_id, region, enterprise_id, agency_id, category, title_zh, title_en,
  description, priority, state, claimed_by, claimed_until, assignee_kind, assignee_id, outcome, resolution_note,
  created_at, accepted_at, accept_due_at, resolve_due_at, resolved_at, sla_breaches, revision, updated_at,
  number, callback_at, callback_by, satisfaction, callback_note, complainant_name, complainant_phone`;

/** A ticket as the `tickets` table holds it: flat text, times as ClickHouse prints them. */
type TicketRow = Omit<Ticket, 'title' | 'assignee' | 'revision' | 'callback' | 'complainant'> & {
  complainant_name: string;
  complainant_phone: string;
  callback_at: string | null;
  callback_by: string;
  satisfaction: Satisfaction | '';
  callback_note: string;
  title_zh: string;
  title_en: string;
  assignee_kind: AssigneeKind | '';
  assignee_id: string;
  // 64-bit integers may arrive as strings.
  revision: number | string;
};

const TIME_FIELDS = ['created_at', 'accept_due_at', 'resolve_due_at', 'updated_at'] as const;
const NULLABLE_TIME_FIELDS = ['claimed_until', 'accepted_at', 'resolved_at'] as const;

function ticketRow(ticket: Ticket): Row {
  const { title, assignee, callback, complainant, ...rest } = ticket;
  const row: Row = {
    ...rest,
    complainant_name: complainant?.name ?? '',
    complainant_phone: complainant?.phone ?? '',
    callback_at: callback ? chTime(callback.at) : null,
    callback_by: callback?.by ?? '',
    satisfaction: callback?.satisfaction ?? '',
    callback_note: callback?.note ?? '',
    title_zh: title.zh,
    title_en: title.en,
    assignee_kind: assignee?.kind ?? '',
    assignee_id: assignee?.id ?? '',
  };
  for (const field of TIME_FIELDS) row[field] = chTime(ticket[field]);
  for (const field of NULLABLE_TIME_FIELDS) row[field] = ticket[field] === null ? null : chTime(ticket[field]);
  return row;
}

function fromRow(row: TicketRow): Ticket {
  const {
    title_zh, title_en, assignee_kind, assignee_id, callback_at, callback_by, satisfaction, callback_note, complainant_name, complainant_phone, ...rest
  } = row;
  const ticket: Ticket = {
    ...rest,
    complainant: complainant_phone ? { name: complainant_name, phone: complainant_phone } : null,
    callback: callback_at === null || satisfaction === ''
      ? null : { at: isoTime(callback_at), by: callback_by, satisfaction, note: callback_note },
    title: { zh: title_zh, en: title_en },
    assignee: assignee_kind === '' ? null : { kind: assignee_kind, id: assignee_id },
    revision: Number(row.revision),
  };
  for (const field of TIME_FIELDS) ticket[field] = isoTime(row[field]);
  for (const field of NULLABLE_TIME_FIELDS) ticket[field] = row[field] === null ? null : isoTime(row[field]);
  return ticket;
}

function changeRow({ ticket, change }: TicketRevision): Row {
  const { region, category, source, enterprise_id, agency_id } = ticket;
  return { ...change, at: chTime(change.at), region, category, source, enterprise_id, agency_id };
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

const chTime = (rfc3339: string) => toClickHouseTime(new Date(rfc3339));
const isoTime = (clickhouseTime: string) => fromClickHouseTime(clickhouseTime).toISOString();
