import { emptyPage, jurisdictionOf, narrowRegion, within } from '../auth/index.js';
import { Region } from '../ingest/schema.js';
import type { Homes } from '../reference/index.js';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { auditContext } from '../audit/index.js';
import { actingPerson, Actor, invalid, Note } from '../http/body.js';
import { Cursor, firstValues } from '../http/query.js';
import { components, defineRoute, failure, json, jsonBody, ref, requestErrors, routeGroup } from '../http/route.js';
import { LockTimeoutError } from '../redis/lock.js';
import { addNote, assign, categorise, claim, recordCallback, reopen, release, resolve, TicketConflict, type TicketRevision } from './lifecycle.js';
import { ASSIGNEE_KINDS, SATISFACTIONS, TICKET_OUTCOMES, PRIORITIES, TICKET_SOURCES, TICKET_STATES, type Assignee, type Ticket } from './model.js';
import { scheduleClaimLapse, scheduleSlas, type HotlineQueue } from './queue.js';
import { resolveDeadline, type HotlineSettings } from './sla.js';
import { TICKET_ANSWERS } from './responses.js';
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
  cursor: Cursor(decodeCursor).optional(),
}).strict();

export const ClaimBody = z.object({ actor: Actor }).strict().meta({ id: 'ClaimBody' });
export const ReleaseBody = z.object({ actor: Actor, note: Note.optional() }).strict().meta({ id: 'ReleaseBody' });
export const AssignBody = z.object({
  actor: Actor,
  to: z.object({
    kind: z.enum(ASSIGNEE_KINDS, oneOf(ASSIGNEE_KINDS)),
    id: Name('id').describe('A known agency, or the office of a division\'s justice bureau or discipline commission (`371400-SFJ`, `371400-JWJW`): inside the jurisdiction'),
  }, { error: (issue) => (issue.input === undefined ? 'is required' : 'must be an object {kind, id}') }).strict(),
  note: Note.optional(),
}).strict().meta({ id: 'AssignBody' });
export const CategoriseBody = z.object({
  actor: Actor,
  category: Name('category').describe('A complaint category, the id of a rule, or other'),
  note: Note.optional(),
}).strict().meta({ id: 'CategoriseBody' });
export const NoteBody = z.object({ actor: Actor, text: Note.min(1, 'must not be empty') }).strict().meta({ id: 'NoteBody' });
export const ResolveTicketBody = z.object({
  actor: Actor,
  outcome: z.enum(TICKET_OUTCOMES, oneOf(TICKET_OUTCOMES)),
  note: Note.min(1, 'must say how the ticket was resolved'),
}).strict().meta({ id: 'ResolveTicketBody' });
export const CallbackBody = z.object({
  actor: Actor,
  satisfaction: z.enum(SATISFACTIONS, oneOf(SATISFACTIONS)),
  note: Note.optional(),
}).strict().meta({ id: 'CallbackBody' });
export const ReopenTicketBody = z.object({ actor: Actor, note: Note.min(1, 'must say why the ticket is reopened') }).strict().meta({ id: 'ReopenTicketBody' });

const TicketId = z.object({ id: z.string().describe("sha256 of its source: the alert's id, or the complaint's company and event id (32 hex characters)") });
const tags = ['hotline'];

const listTickets = defineRoute({
  method: 'get', path: '/v1/hotline/tickets', access: ['tickets:read'], tags,
  summary: 'The hotline queue: urgent first, then oldest first',
  request: { query: firstValues(TicketListParams) },
  responses: { 200: json('One page', ref('TicketPage')), 400: failure('Bad parameters (named in errors)') },
});

const getTicket = defineRoute({
  method: 'get', path: '/v1/hotline/tickets/{id}', access: ['tickets:read'], tags,
  summary: 'One ticket with its notes and history',
  request: { params: TicketId },
  responses: { 200: json('Found', ref('TicketDetail')), 404: failure('Unknown ticket') },
});

const ticketAction = <S extends z.ZodType>(action: string, summary: string, body: S) => defineRoute({
  method: 'post', path: `/v1/hotline/tickets/{id}/${action}`, access: ['tickets:act'], tags,
  summary,
  request: { params: TicketId, body: jsonBody(body) },
  responses: {
    200: json('The ticket after the change', ref('Ticket')),
    400: failure('Malformed JSON or a bad field (named in errors)'),
    404: failure('Unknown ticket'),
    409: json('The ticket is not in a state this action applies to, or someone else holds its claim (named in claimed_by)',
      { allOf: [ref('Error'), { type: 'object', properties: { claimed_by: { type: 'string' } } }] }),
    415: failure('Content-Type is not JSON'),
    503: failure('The ticket is being changed by someone else, or a backing service is unavailable; nothing changed, retry'),
  },
});

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
export function hotlineRoutes(options: HotlineRoutesOptions): OpenAPIHono {
  const { store, settings } = options;
  const app = routeGroup();
  components(app, TICKET_ANSWERS);

  app.openapi(listTickets, async (c) => {
    const { limit, cursor, ...filters } = c.req.valid('query');
    const region = narrowRegion(filters.region, jurisdictionOf(c));
    if (region === null) return emptyPage(c);
    return c.json(await store.list({ ...filters, region }, limit, cursor === undefined ? undefined : decodeCursor(cursor)!));
  }, requestErrors('bad tickets request'));

  app.openapi(getTicket, async (c) => {
    const ticket = await store.get(c.req.param('id'));
    if (!ticket || !within(ticket.region, jurisdictionOf(c))) return notFound(c);
    const history = await store.history(ticket.id);
    const notes = history.filter((h) => h.action === 'note').map((h) => ({ at: h.at, actor: h.actor, text: h.note }));
    return c.json({ ...ticket, notes, history });
  });

  const { claimMs } = settings;
  const route = <S extends z.ZodType<{ actor?: string }>>(
    action: string, summary: string, schema: S, transition: (body: z.infer<S>, actor: string, ticket: Ticket, now: Date) => TicketRevision,
  ) => app.openapi(ticketAction(action, summary, schema), (c) => act(c, options, c.req.valid('json' as never) as z.infer<S>, transition));

  route('claim', 'Claim a ticket (or renew your claim) for HOTLINE_CLAIM_MINUTES', ClaimBody, (_body, actor, t, now) => claim(t, actor, now, claimMs));
  route('release', 'Release your claim: the ticket returns to the queue', ReleaseBody, (b, actor, t, now) => release(t, actor, b.note ?? '', now));
  route('assign', 'Hand the ticket to an agency, the justice bureau or discipline inspection (claim it first)', AssignBody,
    (b, actor, t, now) => assign(t, actor, b.to, b.note ?? '', now, claimMs));
  route('categorise', 'File the ticket under another category', CategoriseBody, (b, actor, t, now) => categorise(t, actor, b.category, b.note ?? '', now, claimMs));
  route('notes', "Add a note (anyone; the holder's note renews the claim)", NoteBody, (b, actor, t, now) => addNote(t, actor, b.text, now, claimMs));
  route('callback', "Record the callback (回访): the caller's satisfaction (claim it first; a complaint's ticket needs it before resolve)",
    CallbackBody, (b, actor, t, now) => recordCallback(t, actor, b.satisfaction, b.note ?? '', now, claimMs));
  route('resolve', 'Resolve the ticket with an outcome (claim it first; a complaint needs its callback first)', ResolveTicketBody, (b, actor, t, now) => resolve(t, actor, b.outcome, b.note, now));
  route('reopen', 'Reopen a resolved ticket with a fresh resolve deadline (a note saying why is required)', ReopenTicketBody,
    (b, actor, t, now) => reopen(t, actor, b.note, now, resolveDeadline(now, settings)));

  return app;
}

/**
 * Checks what the body's schema cannot (who acts, category, assignee), then applies the transition under the
 * ticket's lock as the token's holder; answers with the ticket.
 */
async function act<B extends { actor?: string }>(
  c: Context, options: HotlineRoutesOptions, body: B, transition: (body: B, actor: string, ticket: Ticket, now: Date) => TicketRevision,
) {
  const person = actingPerson(c, body.actor, 'actor');
  if (!person.ok) return person.response;
  const category = (body as { category?: unknown }).category;
  if (typeof category === 'string' && !options.categories().includes(category)) {
    return invalid(c, 'bad request body', [{ index: null, field: 'category', message: `must be one of ${options.categories().join(', ')}` }], 'validation_failed');
  }
  const to = (body as { to?: Assignee }).to;
  const unitProblem = to ? await assigneeProblem(to, jurisdictionOf(c), options.homes) : null;
  if (unitProblem) return invalid(c, 'bad request body', [{ index: null, field: 'to.id', message: unitProblem }], 'validation_failed');
  const seen = await options.store.get(c.req.param('id')!);
  if (!seen || !within(seen.region, jurisdictionOf(c))) return notFound(c);
  try {
    const ticket = await options.store.act(c.req.param('id')!, (current, now) => transition(body, person.name, current, now),
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
  if (change.action === 'reopened') await scheduleSlas(queue, [{ ticketId: ticket.id, sla: 'resolve', dueAt: ticket.resolve_due_at }]);
}

const notFound = (c: Context) => c.json({ error: 'not_found', message: 'no such ticket' }, 404);
