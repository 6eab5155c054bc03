import { z } from 'zod';
import {
  ASSIGNEE_KINDS, PRIORITIES, SATISFACTIONS, SLA_KINDS, TICKET_ACTIONS, TICKET_OUTCOMES, TICKET_SOURCES, TICKET_STATES,
  type AssigneeKind, type Priority, type Ticket, type TicketChange, type TicketSource, type TicketState,
} from '../../hotline/model.js';
import { fromClickHouseTime, toClickHouseTime, type Storage } from '../port.js';
import { column, columnsOf, literal, literalList, namedQuery, type Statement } from './query.js';

/**
 * `tickets` (migrations 5 and 13): one row per ticket revision; the highest wins (ReplacingMergeTree(revision),
 * read with FINAL). Not partitioned, so all revisions of a ticket always fold together. A ticket is stored flat:
 * its title per language, its assignee as kind and id ('' when none), the caller's contact and the callback
 * (回访) as columns ('' and null when none), times as DateTime64(3).
 */
export const TicketRow = z.object({
  id: z.string(),
  source: z.enum(TICKET_SOURCES),
  source_id: z.string(),
  alert_id: z.string().nullable(),
  region: z.string(),
  enterprise_id: z.string(),
  agency_id: z.string(),
  category: z.string(),
  title_zh: z.string(),
  title_en: z.string(),
  description: z.string(),
  priority: z.enum(PRIORITIES),
  state: z.enum(TICKET_STATES),
  claimed_by: z.string(),
  claimed_until: column.time.nullable(),
  assignee_kind: z.enum([...ASSIGNEE_KINDS, '']),
  assignee_id: z.string(),
  outcome: z.enum([...TICKET_OUTCOMES, '']),
  resolution_note: z.string(),
  created_at: column.time,
  accepted_at: column.time.nullable(),
  accept_due_at: column.time,
  resolve_due_at: column.time,
  resolved_at: column.time.nullable(),
  sla_breaches: z.array(z.enum(SLA_KINDS)),
  revision: column.uint64,
  updated_at: column.time,
  /** Migration 13: 12345-YYYYMMDD-NNNN ('' before numbers were given), the caller's contact, the callback. */
  number: z.string(),
  callback_at: column.time.nullable(),
  callback_by: z.string(),
  satisfaction: z.enum([...SATISFACTIONS, '']),
  callback_note: z.string(),
  complainant_name: z.string(),
  complainant_phone: z.string(),
});
export type TicketRow = z.output<typeof TicketRow>;
export type TicketInsert = z.input<typeof TicketRow>;

const TIME_FIELDS = ['created_at', 'accept_due_at', 'resolve_due_at', 'updated_at'] as const;
const NULLABLE_TIME_FIELDS = ['claimed_until', 'accepted_at', 'resolved_at'] as const;

export function ticketRow(ticket: Ticket): TicketInsert {
  const { title, assignee, callback, complainant, ...rest } = ticket;
  const row: TicketInsert = {
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

export function ticketOf(row: TicketRow): Ticket {
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
  };
  for (const field of TIME_FIELDS) ticket[field] = isoTime(row[field]);
  for (const field of NULLABLE_TIME_FIELDS) ticket[field] = row[field] === null ? null : isoTime(row[field]);
  return ticket;
}

export const insertTickets = (storage: Storage, rows: readonly TicketInsert[]) => storage.insert('tickets', rows);

/** A ticket id as the hotline makes them (`ticketId`: 32 hex digits of a SHA-256). */
const TICKET_ID = /^[0-9a-f]{32}$/;

/**
 * One ticket. Every action on a ticket and every timer of one re-reads it under its lock (opening uses
 * `storedTicketIds`, a group at a time): an id of the hotline's own making goes into the SQL as a literal, so the
 * read does not wait its turn among the engine's bound queries (`literal`); any other id (from a URL) is bound, and
 * names no ticket.
 */
export const ticketById = namedQuery({
  name: 'tickets.byId',
  row: TicketRow,
  statement: ({ id }: { id: string }) => (TICKET_ID.test(id)
    ? { sql: `SELECT ${columnsOf(TicketRow)} FROM tickets FINAL WHERE id = ${literal(id, TICKET_ID)}`, values: {} }
    : { sql: `SELECT ${columnsOf(TicketRow)} FROM tickets FINAL WHERE id = {id:String}`, values: { id } }),
});

/**
 * Which of these tickets are stored, in one read (any revision will do, so no FINAL): the hotline opens tickets in
 * groups. Ids of the hotline's making go in as literals, as in `ticketById`.
 */
export const storedTicketIds = namedQuery({
  name: 'tickets.storedIds',
  row: z.object({ id: z.string() }),
  statement: ({ ids }: { ids: readonly string[] }) => {
    const list = literalList(ids, TICKET_ID);
    return list === null
      ? { sql: 'SELECT DISTINCT id FROM tickets WHERE id IN {ids:Array(String)}', values: { ids } }
      : { sql: `SELECT DISTINCT id FROM tickets WHERE id IN ${list}`, values: {} };
  },
});

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

// Urgent first: the position in the reversed priority list.
const RANK_ORDER = [...PRIORITIES].reverse();
const RANK = `indexOf([${RANK_ORDER.map((p) => `'${p}'`).join(', ')}], priority)`;
/** A ticket's place in queue order (urgent first), as the page's SQL computes it. */
export const rank = (priority: Priority) => RANK_ORDER.indexOf(priority) + 1;

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

/** Queue order: urgent first, then oldest first, after a position in that order (created_at as DateTime64(3) text). */
export const ticketPage = namedQuery({
  name: 'tickets.page',
  row: TicketRow,
  statement: (p: { filters: TicketFilters; limit: number; now: Date; after?: { rank: number; created_at: string; id: string } }) => {
    const conditions: string[] = [p.filters.state === undefined ? "state != 'resolved'" : `${EFFECTIVE_STATE} = {state:String}`];
    const values: Statement['values'] = { now: toClickHouseTime(p.now), limit: p.limit };
    for (const [name, value] of Object.entries(p.filters) as Array<[keyof TicketFilters, string | undefined]>) {
      if (value === undefined) continue;
      values[name] = value;
      if (name !== 'state') conditions.push(FILTER_SQL[name]);
    }
    if (p.after) {
      conditions.push(`(${RANK}, created_at, id) > ({after_rank:UInt8}, {after_time:DateTime64(3, 'UTC')}, {after_id:String})`);
      Object.assign(values, { after_rank: p.after.rank, after_time: p.after.created_at, after_id: p.after.id });
    }
    return {
      sql: `SELECT ${columnsOf(TicketRow)} FROM tickets FINAL
            WHERE ${conditions.join(' AND ')}
            ORDER BY ${RANK}, created_at, id
            LIMIT {limit:UInt32}`,
      values,
    };
  },
});

/** The highest serial numbered on a Shanghai day so far (0 for none), for numbers starting `prefix` (12345-YYYYMMDD-). */
export const lastTicketSerial = namedQuery({
  name: 'tickets.lastSerial',
  row: z.object({ last: column.uint64 }),
  statement: (values: { prefix: string }) => ({
    sql: `SELECT max(toUInt32OrZero(substring(number, {from:UInt32}))) AS last FROM tickets FINAL WHERE startsWith(number, {prefix:String})`,
    values: { ...values, from: values.prefix.length + 1 },
  }),
});

/** How many tickets are in each stored state (a lapsed claim still counts as claimed until its release is recorded). */
export const ticketCountsByState = namedQuery({
  name: 'tickets.countsByState',
  row: z.object({ state: z.enum(TICKET_STATES), n: column.uint64 }),
  statement: (values: Record<string, never>) => ({ sql: 'SELECT state, count() AS n FROM tickets FINAL GROUP BY state', values }),
});

/**
 * `ticket_changes` (migration 5): every change of every ticket, notes included (action 'note'). Region,
 * category, source, company and agency are copied in so dashboards can measure queue times and SLA
 * compliance without a join; a retried insert of the same revision folds.
 */
export const TicketChangeRow = z.object({
  ticket_id: z.string(),
  revision: column.uint64,
  at: column.time,
  actor: z.string(),
  action: z.enum(TICKET_ACTIONS),
  from_state: z.enum([...TICKET_STATES, '']),
  to_state: z.enum(TICKET_STATES),
  priority: z.enum(PRIORITIES),
  note: z.string(),
  region: z.string(),
  category: z.string(),
  source: z.enum(TICKET_SOURCES),
  enterprise_id: z.string(),
  agency_id: z.string(),
});
export type TicketChangeInsert = z.input<typeof TicketChangeRow>;

export function ticketChangeRow(ticket: Ticket, change: TicketChange): TicketChangeInsert {
  const { region, category, source, enterprise_id, agency_id } = ticket;
  return { ...change, at: chTime(change.at), region, category, source, enterprise_id, agency_id };
}

export const insertTicketChanges = (storage: Storage, rows: readonly TicketChangeInsert[]) => storage.insert('ticket_changes', rows);

/** The change itself, without what is copied in for dashboards. */
const ChangeOnly = TicketChangeRow.pick({
  ticket_id: true, revision: true, at: true, actor: true, action: true, from_state: true, to_state: true, priority: true, note: true,
});
export const ticketChangeOf = (row: z.output<typeof ChangeOnly>): TicketChange => ({ ...row, at: isoTime(row.at) });

/** Every change of the ticket, oldest first. */
export const ticketHistory = namedQuery({
  name: 'ticket_changes.history',
  row: ChangeOnly,
  statement: (values: { id: string }) => ({
    sql: `SELECT ${columnsOf(ChangeOnly)} FROM ticket_changes FINAL WHERE ticket_id = {id:String} ORDER BY revision`, values,
  }),
});

const chTime = (rfc3339: string) => toClickHouseTime(new Date(rfc3339));
const isoTime = (clickhouseTime: string) => fromClickHouseTime(clickhouseTime).toISOString();
