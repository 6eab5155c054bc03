import { Hono } from 'hono';
import { jurisdictionOf, within } from '../auth/index.js';
import { z } from 'zod';
import { auditContext } from '../audit/index.js';
import { actingPerson, Actor, invalid, readJson } from '../http/body.js';
import { fieldErrors } from '../http/query.js';
import { AgencyId, EnterpriseId } from '../ingest/index.js';
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
});

export const ExpireSilenceBody = z.object({ actor: Actor }).strict();
export const SilenceListParams = z.object({ state: z.enum(['active', 'expired', 'all']).default('active') }).strict();

/** Silences over HTTP: list, create, show, expire early. */
export function silenceRoutes(store: SilenceStore): Hono {
  const app = new Hono();

  app.get('/v1/silences', async (c) => {
    const params = SilenceListParams.safeParse(c.req.query());
    if (!params.success) return invalid(c, 'bad silences request', fieldErrors(params.error));
    const jurisdiction = jurisdictionOf(c);
    return c.json({ items: (await store.list(params.data.state)).filter((s) => within(s.matchers.region, jurisdiction)) });
  });

  app.post('/v1/silences', async (c) => {
    const read = await readJson(c);
    if (!read.ok) return read.response;
    const body = CreateSilenceBody.safeParse(read.value);
    if (!body.success) return invalid(c, 'bad request body', fieldErrors(body.error, 'is not a known field'), 'validation_failed');
    const { matchers, reason, ends_at, duration_minutes } = body.data;
    const person = actingPerson(c, body.data.created_by, 'created_by');
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

  app.get('/v1/silences/:id', async (c) => {
    const silence = await store.get(c.req.param('id'));
    return silence && within(silence.matchers.region, jurisdictionOf(c)) ? c.json(silence) : c.json({ error: 'not_found', message: 'no such silence' }, 404);
  });

  app.post('/v1/silences/:id/expire', async (c) => {
    const read = await readJson(c);
    if (!read.ok) return read.response;
    const body = ExpireSilenceBody.safeParse(read.value);
    if (!body.success) return invalid(c, 'bad request body', fieldErrors(body.error, 'is not a known field'), 'validation_failed');
    const person = actingPerson(c, body.data.actor, 'actor');
    if (!person.ok) return person.response;
    const seen = await store.get(c.req.param('id'));
    if (!seen || !within(seen.matchers.region, jurisdictionOf(c))) return c.json({ error: 'not_found', message: 'no such silence' }, 404);
    const silence = await store.expire(c.req.param('id'), person.name, auditContext(c));
    return silence ? c.json(silence) : c.json({ error: 'not_found', message: 'no such silence' }, 404);
  });

  return app;
}
