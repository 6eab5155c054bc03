import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { can, principalOf, within } from '../auth/index.js';
import { z } from 'zod';
import { ENTERPRISE_STATUSES, EnterpriseId } from '../ingest/index.js';
import { invalid } from '../http/body.js';
import { Cursor, fieldErrors, firstValues, TimeBound as Bound } from '../http/query.js';
import { components, defineRoute, failure, json, ref, routeGroup } from '../http/route.js';
import type { Storage } from '../storage/index.js';
import { decodeCursor, readTimeline } from './store.js';

const TimelineParams = z.object({
  from: Bound.optional(),
  to: Bound.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: Cursor(decodeCursor).optional(),
}).strict();

const timeline = defineRoute({
  method: 'get', path: '/v1/enterprises/{id}/timeline', access: ['timeline:read', 'timeline:own'], tags: ['ingest'],
  summary: "A company's events in event-time order (its public inspection record)",
  request: { params: z.object({ id: EnterpriseId.describe('Unified social credit code') }), query: firstValues(TimelineParams) },
  responses: {
    200: json('One page', ref('TimelinePage')),
    400: failure('Bad id or parameters'),
    404: failure('No timeline this token may read'),
  },
});

/** A bad id and bad parameters in one answer: the query is validated first, so its hook names the id too. */
function timelineErrors(result: { success: boolean; target: string; error?: z.ZodError }, c: Context) {
  const id = EnterpriseId.safeParse(c.req.param('id'));
  const errors = id.success ? [] : [{ index: null, field: 'id', message: id.error.issues[0]!.message }];
  if (result.target === 'query' && result.error) errors.push(...fieldErrors(result.error));
  return errors.length > 0 ? invalid(c, 'bad timeline request', errors) : undefined;
}

/** GET /v1/enterprises/{id}/timeline?from&to&limit&cursor */
export function timelineRoutes(storage: Storage): OpenAPIHono {
  const app = routeGroup();
  components(app, {
    TimelinePage: {
      type: 'object',
      required: ['enterprise_id', 'status', 'items', 'next_cursor'],
      properties: {
        enterprise_id: { type: 'string' },
        status: { enum: [...ENTERPRISE_STATUSES], description: "The company's register status from reference data (active when none was sent)" },
        deregistered_on: { type: 'string', format: 'date', description: 'With status deregistered: the day of deregistration (已注销)' },
        items: { type: 'array', items: ref('Event') },
        next_cursor: { type: ['string', 'null'] },
      },
    },
  });
  app.openapi(timeline, async (c) => {
    const { id } = c.req.valid('param');
    // A company's token reads its own record; for any other id it is as if there were none.
    const caller = principalOf(c);
    const ownCompany = caller.enterprise_id === id;
    const company = await companyStatus(storage, id);
    const visible = can(caller.role, 'timeline:read')
      ? !caller.jurisdiction || within(company?.region ?? '', caller.jurisdiction)
      : ownCompany;
    if (!visible) return c.json({ error: 'not_found', message: 'no timeline for this company' }, 404);
    const { from = new Date(0), to = new Date('2200-01-01T00:00:00Z'), limit, cursor } = c.req.valid('query');
    const page = await readTimeline(storage, { enterpriseId: id, from, to, limit, after: cursor === undefined ? undefined : decodeCursor(cursor)! });
    // The register status frames the record: a check after deregistered_on is a low-quality check (海曙 已注销).
    const status = company?.status || 'active';
    return c.json({ enterprise_id: id, status, ...(status === 'deregistered' && company?.deregistered_on ? { deregistered_on: company.deregistered_on } : {}), ...page });
  }, timelineErrors);
  return app;
}

// A caller limited to a jurisdiction sees companies the reference data places inside it (an unknown company: none).
async function companyStatus(storage: Storage, enterpriseId: string): Promise<{ region: string; status: string; deregistered_on: string | null } | null> {
  const [row] = await storage.query<{ region: string; status: string; deregistered_on: string | null }>(
    'SELECT region, status, deregistered_on FROM enterprises FINAL WHERE enterprise_id = {id:String} LIMIT 1', { id: enterpriseId });
  return row ?? null;
}
