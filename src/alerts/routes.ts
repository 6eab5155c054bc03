import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { emptyPage, jurisdictionOf, narrowRegion, within } from '../auth/index.js';
import { z } from 'zod';
import { auditContext } from '../audit/index.js';
import { actingPerson, Actor, Note } from '../http/body.js';
import { Cursor, firstValues, TimeBound } from '../http/query.js';
import { components, defineRoute, failure, json, jsonBody, ref, requestErrors, routeGroup } from '../http/route.js';
import { AgencyId, EnterpriseId, OfficerId } from '../ingest/index.js';
import { LockTimeoutError } from '../redis/lock.js';
import { acknowledge, reopen, resolve, TransitionError, type Revision } from './lifecycle.js';
import { ALERT_MODES, ALERT_STATUSES, RESOLUTION_CODES, SEVERITIES, type Alert } from './model.js';
import { ALERT_ANSWERS } from './responses.js';
import { decodeCursor, type AlertOutlet, type AlertStore } from './store.js';

export const AlertListParams = z.object({
  rule: z.string().min(1).max(64).optional(),
  severity: z.enum(SEVERITIES).optional(),
  status: z.enum(ALERT_STATUSES).optional(),
  mode: z.enum(ALERT_MODES).optional(),
  region: z.string().regex(/^\d{2,6}$/, 'must be 2 to 6 digits of a division code, e.g. 37, 3714 or 371402').optional(),
  agency: AgencyId.optional(),
  enterprise: EnterpriseId.optional(),
  officer: OfficerId.optional().describe("One of the alert's officers (officer_ids)"),
  /** Empty selects rules' main alerts. */
  variant: z.string().max(64).optional(),
  from: TimeBound.optional(),
  to: TimeBound.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: Cursor(decodeCursor).optional(),
}).strict();

export const AckBody = z.object({ actor: Actor, note: Note.optional() }).strict().meta({ id: 'AckBody' });
export const ResolveBody = z.object({
  actor: Actor,
  code: z.enum(RESOLUTION_CODES, { message: `must be one of ${RESOLUTION_CODES.join(', ')}` }),
  note: Note.optional(),
}).strict().meta({ id: 'ResolveBody' });
export const ReopenBody = z.object({ actor: Actor, note: Note.min(1, 'must say why the alert is reopened') }).strict().meta({ id: 'ReopenBody' });

const AlertId = z.object({ id: z.string().describe("The alert's fingerprint") });
const tags = ['alerts'];

const listAlerts = defineRoute({
  method: 'get', path: '/v1/alerts', access: ['alerts:read'], tags,
  summary: 'Alerts, newest first by first_seen_at (event time)',
  request: { query: firstValues(AlertListParams) },
  responses: { 200: json('One page', ref('AlertPage')), 400: failure('Bad parameters (named in errors)') },
});

const getAlert = defineRoute({
  method: 'get', path: '/v1/alerts/{id}', access: ['alerts:read'], tags,
  summary: 'One alert with its evidence events and history',
  request: { params: AlertId },
  responses: { 200: json('Found', ref('AlertDetail')), 404: failure('Unknown alert') },
});

const alertAction = <S extends z.ZodType>(action: string, summary: string, body: S) => defineRoute({
  method: 'post', path: `/v1/alerts/{id}/${action}`, access: ['alerts:act'], tags,
  summary,
  request: { params: AlertId, body: jsonBody(body) },
  responses: {
    200: json('The alert after the change', ref('Alert')),
    400: failure('Malformed JSON or a bad field (named in errors)'),
    404: failure('Unknown alert'),
    409: failure('The alert is not in a state this action applies to'),
    415: failure('Content-Type is not JSON'),
    503: failure("The alert's company is being re-evaluated, or a backing service is unavailable; nothing changed, retry"),
  },
});

/** The alert feed, one alert with its evidence and history, and people's actions on alerts. */
export function alertRoutes(store: AlertStore, deliver?: AlertOutlet): OpenAPIHono {
  const app = routeGroup();
  components(app, ALERT_ANSWERS);

  app.openapi(listAlerts, async (c) => {
    const { limit, cursor, ...filters } = c.req.valid('query');
    const region = narrowRegion(filters.region, jurisdictionOf(c));
    if (region === null) return emptyPage(c);
    return c.json(await store.list({ ...filters, region }, limit, cursor === undefined ? undefined : decodeCursor(cursor)!));
  }, requestErrors('bad alerts request'));

  app.openapi(getAlert, async (c) => {
    const alert = await store.get(c.req.param('id'));
    if (!alert || !within(alert.region, jurisdictionOf(c))) return notFound(c);
    const [evidence_events, history] = await Promise.all([store.evidenceEvents(alert), store.history(alert.id)]);
    return c.json({ ...alert, evidence_events, history });
  });

  app.openapi(alertAction('ack', 'Acknowledge an open alert', AckBody), (c) =>
    act(c, store, c.req.valid('json'), (body, actor, alert, now) => acknowledge(alert, actor, body.note ?? '', now), deliver));
  app.openapi(alertAction('resolve', 'Resolve an alert with a resolution code', ResolveBody), (c) =>
    act(c, store, c.req.valid('json'), (body, actor, alert, now) => resolve(alert, body.code, actor, body.note ?? '', now), deliver));
  app.openapi(alertAction('reopen', 'Reopen a resolved alert (a note saying why is required)', ReopenBody), (c) =>
    act(c, store, c.req.valid('json'), (body, actor, alert, now) => reopen(alert, actor, body.note, now), deliver));

  return app;
}

/** Applies the transition to the validated body under the company's lock, as the token's holder; answers with the new alert. */
async function act<B extends { actor?: string }>(
  c: Context, store: AlertStore, body: B, transition: (body: B, actor: string, alert: Alert, now: Date) => Revision,
  deliver: AlertOutlet | undefined,
) {
  const person = actingPerson(c, body.actor, 'actor');
  if (!person.ok) return person.response;
  // An alert's region never changes, so checking before the locked transition is enough.
  const seen = await store.get(c.req.param('id')!);
  if (!seen || !within(seen.region, jurisdictionOf(c))) return notFound(c);
  try {
    const alert = await store.act(c.req.param('id')!, (current) => transition(body, person.name, current, new Date()), deliver, auditContext(c));
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
