import type { OpenAPIHono } from '@hono/zod-openapi';
import { jurisdictionOf, within } from '../auth/index.js';
import { z } from 'zod';
import { auditContext } from '../audit/index.js';
import { actingPerson, Actor, invalid } from '../http/body.js';
import { firstValues } from '../http/query.js';
import { components, defineRoute, failure, json, jsonBody, ref, requestErrors, routeGroup } from '../http/route.js';
import { AgencyId, EnterpriseId } from '../ingest/index.js';
import { SILENCE_ANSWERS } from './responses.js';
import type { SilenceStore } from './silences.js';

const MAX_SILENCE_MINUTES = 90 * 24 * 60;

export const SilenceMatchersBody = z.object({
  rule: z.string().min(1).max(64).optional(),
  region: z.string().regex(/^\d{2,6}$/, 'must be 2 to 6 digits of a division code, e.g. 37, 3714 or 371402').optional(),
  agency: AgencyId.optional(),
  enterprise: EnterpriseId.optional(),
}).strict().refine((m) => Object.values(m).some((v) => v !== undefined), {
  message: 'must name at least one of rule, region, agency, enterprise (a silence of everything is not allowed)',
});

export const CreateSilenceBody = z.object({
  matchers: SilenceMatchersBody,
  reason: z.string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') }).trim()
    .min(1, 'must say why alerts are silenced').max(500, 'must be at most 500 characters'),
  created_by: Actor,
  ends_at: z.iso.datetime({ offset: true, message: 'must be an RFC 3339 time with offset' }).optional(),
  duration_minutes: z.number().int().min(1).max(MAX_SILENCE_MINUTES, `must be at most ${MAX_SILENCE_MINUTES} (90 days)`).optional(),
}).strict().refine((b) => (b.ends_at === undefined) !== (b.duration_minutes === undefined), {
  message: 'give exactly one of ends_at and duration_minutes', path: ['ends_at'],
}).meta({ id: 'CreateSilenceBody' });

export const ExpireSilenceBody = z.object({ actor: Actor }).strict().meta({ id: 'ExpireSilenceBody' });
export const SilenceListParams = z.object({ state: z.enum(['active', 'expired', 'all']).default('active') }).strict();

const SilenceId = z.object({ id: z.string() });
const tags = ['alerts'];

const listSilences = defineRoute({
  method: 'get', path: '/v1/silences', access: ['silences:read'], tags,
  summary: 'Silences, newest first',
  request: { query: firstValues(SilenceListParams) },
  responses: {
    200: json('{items: Silence[]}', { type: 'object', properties: { items: { type: 'array', items: ref('Silence') } } }),
    400: failure('Bad parameters (named in errors)'),
  },
});

const createSilence = defineRoute({
  method: 'post', path: '/v1/silences', access: ['silences:write'], tags,
  summary: 'Silence matching alerts: stored, marked silenced_by, pushed to nobody',
  request: { body: jsonBody(CreateSilenceBody) },
  responses: { 201: json('Created', ref('Silence')), 400: failure('A bad field (named in errors)'), 415: failure('Content-Type is not JSON') },
});

const getSilence = defineRoute({
  method: 'get', path: '/v1/silences/{id}', access: ['silences:read'], tags,
  summary: 'One silence',
  request: { params: SilenceId },
  responses: { 200: json('Found', ref('Silence')), 404: failure('Unknown silence') },
});

const expireSilence = defineRoute({
  method: 'post', path: '/v1/silences/{id}/expire', access: ['silences:write'], tags,
  summary: 'End a silence now',
  request: { params: SilenceId, body: jsonBody(ExpireSilenceBody) },
  responses: { 200: json('The expired silence', ref('Silence')), 400: failure('A bad field'), 404: failure('Unknown silence') },
});

/** Silences over HTTP: list, create, show, expire early. */
export function silenceRoutes(store: SilenceStore): OpenAPIHono {
  const app = routeGroup();
  components(app, SILENCE_ANSWERS);

  app.openapi(listSilences, async (c) => {
    const jurisdiction = jurisdictionOf(c);
    return c.json({ items: (await store.list(c.req.valid('query').state)).filter((s) => within(s.matchers.region, jurisdiction)) });
  }, requestErrors('bad silences request'));

  app.openapi(createSilence, async (c) => {
    const { matchers, reason, created_by, ends_at, duration_minutes } = c.req.valid('json');
    const person = actingPerson(c, created_by, 'created_by');
    if (!person.ok) return person.response;
    // A silence reaches no further than its maker's jurisdiction.
    const jurisdiction = jurisdictionOf(c);
    if (matchers.region && !within(matchers.region, jurisdiction)) {
      return invalid(c, 'bad request body', [{ index: null, field: 'matchers.region', message: `must lie within your jurisdiction (${jurisdiction})` }], 'validation_failed');
    }
    if (!matchers.region && jurisdiction) matchers.region = jurisdiction;
    const end = ends_at ? new Date(ends_at) : new Date(Date.now() + duration_minutes! * 60_000);
    if (end.getTime() <= Date.now()) {
      return invalid(c, 'bad request body', [{ index: null, field: 'ends_at', message: 'must be in the future' }], 'validation_failed');
    }
    // The same bound as duration_minutes: a silence that never ends would mute a rule for the whole jurisdiction for good.
    if (end.getTime() > Date.now() + MAX_SILENCE_MINUTES * 60_000) {
      return invalid(c, 'bad request body', [{ index: null, field: 'ends_at', message: `must be at most ${MAX_SILENCE_MINUTES} minutes (90 days) from now` }], 'validation_failed');
    }
    return c.json(await store.create({ matchers, reason, created_by: person.name, ends_at: end }, auditContext(c)), 201);
  });

  app.openapi(getSilence, async (c) => {
    const silence = await store.get(c.req.param('id'));
    return silence && within(silence.matchers.region, jurisdictionOf(c)) ? c.json(silence) : c.json({ error: 'not_found', message: 'no such silence' }, 404);
  });

  app.openapi(expireSilence, async (c) => {
    const person = actingPerson(c, c.req.valid('json').actor, 'actor');
    if (!person.ok) return person.response;
    const seen = await store.get(c.req.param('id'));
    if (!seen || !within(seen.matchers.region, jurisdictionOf(c))) return c.json({ error: 'not_found', message: 'no such silence' }, 404);
    const silence = await store.expire(c.req.param('id'), person.name, auditContext(c));
    return silence ? c.json(silence) : c.json({ error: 'not_found', message: 'no such silence' }, 404);
  });

  return app;
}
