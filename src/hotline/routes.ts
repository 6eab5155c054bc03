import { emptyPage, jurisdictionOf, narrowRegion, within } from '../auth/index.js';
import { Region } from '../ingest/schema.js';
import type { Homes } from '../reference/index.js';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { auditContext } from '../audit/index.js';
import { actingPerson, Actor, invalid, Note, readJson } from '../http/body.js';
import { fieldErrors } from '../http/query.js';
import { LockTimeoutError } from '../redis/lock.js';
import { addNote, assign, categorise, claim, reopen, release, resolve, TicketConflict, type TicketRevision } from './lifecycle.js';
import { ASSIGNEE_KINDS, TICKET_OUTCOMES, PRIORITIES, TICKET_SOURCES, TICKET_STATES, type Assignee, type Ticket } from './model.js';
import { scheduleClaimLapse, scheduleSla, type HotlineQueue } from './queue.js';
import { resolveDeadline, type HotlineSettings } from './sla.js';
import { decodeCursor, type TicketStore } from './store.js';

const oneOf = (values: readonly string[]) => ({ message: `must be one of ${values.join(', ')}` });
const Name = (what: string) => z.string().trim().min(1, `${what} must not be empty`).max(64, `${what} must be at most 64 characters`);

export const TicketListParams = z.object({
  state: z.enum(TICKET_STATES, oneOf(TICKET_STATES)).optional().describe('Unset: every ticket that is not resolved'),
  priority: z.enum(PRIORITIES, oneOf(PRIORITIES)).optional(),
  category: Name('category').optional(),
  region: z.string().regex(/^\d{2,6}$/, 'must be 2 to 6 digits of a division code, e.g. 37, 3714 or 371402').optional(),
  source: z.enum(TICKET_SOURCES, oneOf(TICKET_SOURCES)).optional(),
  claimed_by: Name('claimed_by').optional(),
  assignee_kind: z.enum(ASSIGNEE_KINDS, oneOf(ASSIGNEE_KINDS)).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(500).optional(),
}).strict();

export const ClaimBody = z.object({ actor: Actor }).strict();
export const ReleaseBody = z.object({ actor: Actor, note: Note.optional() }).strict();
export const AssignBody = z.object({
  actor: Actor,
  to: z.object({
    kind: z.enum(ASSIGNEE_KINDS, oneOf(ASSIGNEE_KINDS)),
    id: Name('id').describe('A known agency, or the office of a division\'s justice bureau or discipline commission (`371400-SFJ`, `371400-JWJW`): inside the jurisdiction'),
  }, { error: (issue) => (issue.input === undefined ? 'is required' : 'must be an object {kind, id}') }).strict(),
  note: Note.optional(),
}).strict();
export const CategoriseBody = z.object({
  actor: Actor,
  category: Name('category').describe('A complaint category, the id of a rule, or other'),
  note: Note.optional(),
}).strict();
export const NoteBody = z.object({ actor: Actor, text: Note.min(1, 'must not be empty') }).strict();
export const ResolveTicketBody = z.object({
  actor: Actor,
  outcome: z.enum(TICKET_OUTCOMES, oneOf(TICKET_OUTCOMES)),
  note: Note.min(1, 'must say how the ticket was resolved'),
}).strict();
export const ReopenTicketBody = z.object({ actor: Actor, note: Note.min(1, 'must say why the ticket is reopened') }).strict();

export interface HotlineRoutesOptions {
  store: TicketStore;
  /** Where the timers of claims and reopened tickets are scheduled. */
  queue: HotlineQueue;
  settings: HotlineSettings;
  /** Categories a ticket may be filed under: complaint categories, the ids of the rules in force, other. */
  categories: () => readonly string[];
  /** Where agencies are at home: a ticket is handed only to units inside the caller's jurisdiction. */
  homes: Pick<Homes, 'regions'>;
}

// The office of a division's justice bureau (行政执法监督) or discipline commission: its division code, then a suffix.
const OFFICE = /^(\d{6})-[A-Z]{2,10}$/;

/**
 * Why a ticket may not go to this unit, or null: an agency must be known
 * (reference data, or named by an accepted event) and at home inside the
 * caller's jurisdiction; an office is named by a division inside it. An
 * unknown unit and another region's are refused alike, telling nothing.
 */
async function assigneeProblem(to: Assignee, jurisdiction: string, homes: Pick<Homes, 'regions'>): Promise<string | null> {
  const where = jurisdiction ? ` inside your jurisdiction (${jurisdiction})` : '';
  if (to.kind === 'agency') {
    const home = (await homes.regions('agency', [to.id])).get(to.id);
    return home !== undefined && within(home, jurisdiction) ? null : `must be a known agency${where}`;
  }
  const division = OFFICE.exec(to.id)?.[1];
  return division && Region.safeParse(division).success && within(division, jurisdiction)
    ? null : `must be the office of a division${where}: its 6-digit code and a suffix, e.g. 371400-SFJ`;
}

/** The hotline queue: tickets in queue order, one ticket with its notes and history, and staff's actions. */
export function hotlineRoutes(options: HotlineRoutesOptions): Hono {
  const { store, settings } = options;
  const app = new Hono();

  app.get('/v1/hotline/tickets', async (c) => {
    const params = TicketListParams.safeParse(c.req.query());
    const errors = params.success ? [] : fieldErrors(params.error);
    const cursorText = c.req.query('cursor');
    const after = cursorText === undefined ? undefined : decodeCursor(cursorText);
    if (after === null) errors.push({ index: null, field: 'cursor', message: 'is not a cursor this service issued' });
    if (!params.success || errors.length > 0) return invalid(c, 'bad tickets request', errors);
    const { limit, cursor: _cursor, ...filters } = params.data;
    const region = narrowRegion(filters.region, jurisdictionOf(c));
    if (region === null) return emptyPage(c);
    return c.json(await store.list({ ...filters, region }, limit, after ?? undefined));
  });

  app.get('/v1/hotline/tickets/:id', async (c) => {
    const ticket = await store.get(c.req.param('id'));
    if (!ticket || !within(ticket.region, jurisdictionOf(c))) return notFound(c);
    const history = await store.history(ticket.id);
    const notes = history.filter((h) => h.action === 'note').map((h) => ({ at: h.at, actor: h.actor, text: h.note }));
    return c.json({ ...ticket, notes, history });
  });

  const { claimMs } = settings;
  const route = <S extends z.ZodType<{ actor?: string }>>(action: string, schema: S, transition: (body: z.infer<S>, actor: string, ticket: Ticket, now: Date) => TicketRevision) =>
    app.post(`/v1/hotline/tickets/:id/${action}`, (c) => act(c, options, schema, transition));

  route('claim', ClaimBody, (_body, actor, t, now) => claim(t, actor, now, claimMs));
  route('release', ReleaseBody, (b, actor, t, now) => release(t, actor, b.note ?? '', now));
  route('assign', AssignBody, (b, actor, t, now) => assign(t, actor, b.to, b.note ?? '', now, claimMs));
  route('categorise', CategoriseBody, (b, actor, t, now) => categorise(t, actor, b.category, b.note ?? '', now, claimMs));
  route('notes', NoteBody, (b, actor, t, now) => addNote(t, actor, b.text, now, claimMs));
  route('resolve', ResolveTicketBody, (b, actor, t, now) => resolve(t, actor, b.outcome, b.note, now));
  route('reopen', ReopenTicketBody, (b, actor, t, now) => reopen(t, actor, b.note, now, resolveDeadline(now, settings)));

  return app;
}

/** Validates the body, then applies the transition under the ticket's lock as the token's holder; answers with the ticket. */
async function act<S extends z.ZodType<{ actor?: string }>>(
  c: Context, options: HotlineRoutesOptions, schema: S, transition: (body: z.infer<S>, actor: string, ticket: Ticket, now: Date) => TicketRevision,
) {
  const read = await readJson(c);
  if (!read.ok) return read.response;
  const body = schema.safeParse(read.value);
  if (!body.success) return invalid(c, 'bad request body', fieldErrors(body.error, 'is not a known field'), 'validation_failed');
  const person = actingPerson(c, body.data.actor, 'actor');
  if (!person.ok) return person.response;
  const category = (body.data as { category?: unknown }).category;
  if (typeof category === 'string' && !options.categories().includes(category)) {
    return invalid(c, 'bad request body', [{ index: null, field: 'category', message: `must be one of ${options.categories().join(', ')}` }], 'validation_failed');
  }
  const to = (body.data as { to?: Assignee }).to;
  const unitProblem = to ? await assigneeProblem(to, jurisdictionOf(c), options.homes) : null;
  if (unitProblem) return invalid(c, 'bad request body', [{ index: null, field: 'to.id', message: unitProblem }], 'validation_failed');
  const seen = await options.store.get(c.req.param('id')!);
  if (!seen || !within(seen.region, jurisdictionOf(c))) return notFound(c);
  try {
    const ticket = await options.store.act(c.req.param('id')!, (current, now) => transition(body.data, person.name, current, now),
      (revision) => scheduleTimers(options.queue, revision), auditContext(c));
    return ticket ? c.json(ticket) : notFound(c);
  } catch (err) {
    if (err instanceof TicketConflict) {
      return c.json({ error: 'conflict', message: err.message, ...(err.claimedBy ? { claimed_by: err.claimedBy } : {}) }, 409);
    }
    if (err instanceof LockTimeoutError) {
      c.header('Retry-After', '1');
      return c.json({ error: 'busy', message: 'the ticket is being changed by someone else; retry' }, 503);
    }
    throw err;
  }
}

/** Before the revision is saved: the timers it relies on (a timer whose revision was never saved finds nothing to do). */
async function scheduleTimers(queue: HotlineQueue, { ticket, change }: TicketRevision): Promise<void> {
  if (ticket.claimed_until !== null && change.actor === ticket.claimed_by) await scheduleClaimLapse(queue, ticket.id, ticket.claimed_until);
  if (change.action === 'reopened') await scheduleSla(queue, ticket.id, 'resolve', ticket.resolve_due_at);
}

const notFound = (c: Context) => c.json({ error: 'not_found', message: 'no such ticket' }, 404);
