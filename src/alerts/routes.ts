import { Hono, type Context } from 'hono';
import { emptyPage, jurisdictionOf, narrowRegion, within } from '../auth/index.js';
import { z } from 'zod';
import { auditContext } from '../audit/index.js';
import { actingPerson, Actor, invalid, Note, readJson } from '../http/body.js';
import { fieldErrors, TimeBound } from '../http/query.js';
import { AgencyId, EnterpriseId } from '../ingest/index.js';
import { LockTimeoutError } from '../redis/lock.js';
import { acknowledge, reopen, resolve, TransitionError, type Revision } from './lifecycle.js';
import { ALERT_MODES, ALERT_STATUSES, RESOLUTION_CODES, SEVERITIES, type Alert } from './model.js';
import { decodeCursor, type AlertStore } from './store.js';

export const AlertListParams = z.object({
  rule: z.string().min(1).max(64).optional(),
  severity: z.enum(SEVERITIES).optional(),
  status: z.enum(ALERT_STATUSES).optional(),
  mode: z.enum(ALERT_MODES).optional(),
  region: z.string().regex(/^\d{2,6}$/, 'must be 2 to 6 digits of a division code, e.g. 37, 3714 or 371402').optional(),
  agency: AgencyId.optional(),
  enterprise: EnterpriseId.optional(),
  /** Empty selects rules' main alerts. */
  variant: z.string().max(64).optional(),
  from: TimeBound.optional(),
  to: TimeBound.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(500).optional(),
}).strict();

export const AckBody = z.object({ actor: Actor, note: Note.optional() }).strict();
export const ResolveBody = z.object({
  actor: Actor,
  code: z.enum(RESOLUTION_CODES, { message: `must be one of ${RESOLUTION_CODES.join(', ')}` }),
  note: Note.optional(),
}).strict();
export const ReopenBody = z.object({ actor: Actor, note: Note.min(1, 'must say why the alert is reopened') }).strict();

/** The alert feed, one alert with its evidence and history, and people's actions on alerts. */
export function alertRoutes(store: AlertStore, deliver?: (revision: Revision) => Promise<void>): Hono {
  const app = new Hono();

  app.get('/v1/alerts', async (c) => {
    const params = AlertListParams.safeParse(c.req.query());
    const errors = params.success ? [] : fieldErrors(params.error);
    const cursorText = c.req.query('cursor');
    const after = cursorText === undefined ? undefined : decodeCursor(cursorText);
    if (after === null) errors.push({ index: null, field: 'cursor', message: 'is not a cursor this service issued' });
    if (!params.success || errors.length > 0) return invalid(c, 'bad alerts request', errors);
    const { limit, cursor: _cursor, ...filters } = params.data;
    const region = narrowRegion(filters.region, jurisdictionOf(c));
    if (region === null) return emptyPage(c);
    return c.json(await store.list({ ...filters, region }, limit, after ?? undefined));
  });

  app.get('/v1/alerts/:id', async (c) => {
    const alert = await store.get(c.req.param('id'));
    if (!alert || !within(alert.region, jurisdictionOf(c))) return notFound(c);
    const [evidence_events, history] = await Promise.all([store.evidenceEvents(alert), store.history(alert.id)]);
    return c.json({ ...alert, evidence_events, history });
  });

  app.post('/v1/alerts/:id/ack', (c) =>
    act(c, store, AckBody, (body, actor, alert, now) => acknowledge(alert, actor, body.note ?? '', now), deliver));
  app.post('/v1/alerts/:id/resolve', (c) =>
    act(c, store, ResolveBody, (body, actor, alert, now) => resolve(alert, body.code, actor, body.note ?? '', now), deliver));
  app.post('/v1/alerts/:id/reopen', (c) =>
    act(c, store, ReopenBody, (body, actor, alert, now) => reopen(alert, actor, body.note, now), deliver));

  return app;
}

/** Validates the body, then applies the transition under the company's lock as the token's holder; answers with the new alert. */
async function act<S extends z.ZodType<{ actor?: string }>>(
  c: Context, store: AlertStore, schema: S, transition: (body: z.infer<S>, actor: string, alert: Alert, now: Date) => Revision,
  deliver: ((revision: Revision) => Promise<void>) | undefined,
) {
  const read = await readJson(c);
  if (!read.ok) return read.response;
  const body = schema.safeParse(read.value);
  if (!body.success) return invalid(c, 'bad request body', fieldErrors(body.error, 'is not a known field'), 'validation_failed');
  const person = actingPerson(c, body.data.actor, 'actor');
  if (!person.ok) return person.response;
  // An alert's region never changes, so checking before the locked transition is enough.
  const seen = await store.get(c.req.param('id')!);
  if (!seen || !within(seen.region, jurisdictionOf(c))) return notFound(c);
  try {
    const alert = await store.act(c.req.param('id')!, (current) => transition(body.data, person.name, current, new Date()), deliver, auditContext(c));
    return alert ? c.json(alert) : notFound(c);
  } catch (err) {
    if (err instanceof TransitionError) return c.json({ error: 'conflict', message: err.message }, 409);
    if (err instanceof LockTimeoutError) {
      // The engine is reconciling this company for longer than we wait; nothing changed, so retrying is safe.
      c.header('Retry-After', '5');
      return c.json({ error: 'busy', message: "the alert's company is being re-evaluated; retry later" }, 503);
    }
    throw err;
  }
}

const notFound = (c: Context) => c.json({ error: 'not_found', message: 'no such alert' }, 404);
