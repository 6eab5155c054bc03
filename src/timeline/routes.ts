import { Hono } from 'hono';
import { can, principalOf, within } from '../auth/index.js';
import { z } from 'zod';
import { EnterpriseId } from '../ingest/index.js';
import { fieldErrors, TimeBound as Bound } from '../http/query.js';
import type { Storage } from '../storage/index.js';
import { decodeCursor, readTimeline } from './store.js';

const TimelineParams = z.object({
  from: Bound.optional(),
  to: Bound.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(500).optional(),
}).strict();

/** GET /v1/enterprises/{id}/timeline?from&to&limit&cursor */
export function timelineRoutes(storage: Storage): Hono {
  const app = new Hono();
  app.get('/v1/enterprises/:id/timeline', async (c) => {
    const errors: Array<{ index: null; field: string; message: string }> = [];
    const id = EnterpriseId.safeParse(c.req.param('id'));
    if (!id.success) errors.push({ index: null, field: 'id', message: id.error.issues[0]!.message });
    const params = TimelineParams.safeParse(c.req.query());
    if (!params.success) errors.push(...fieldErrors(params.error));
    const cursorText = c.req.query('cursor');
    const after = cursorText === undefined ? undefined : decodeCursor(cursorText);
    if (after === null) errors.push({ index: null, field: 'cursor', message: 'is not a cursor this service issued' });
    if (errors.length > 0 || !params.success || !id.success) {
      return c.json({ error: 'invalid_request', message: 'bad timeline request', errors }, 400);
    }
    // A company's token reads its own record; for any other id it is as if there were none.
    const caller = principalOf(c);
    const ownCompany = caller.enterprise_id === id.data;
    const company = await companyStatus(storage, id.data);
    const visible = can(caller.role, 'timeline:read')
      ? !caller.jurisdiction || within(company?.region ?? '', caller.jurisdiction)
      : ownCompany;
    if (!visible) return c.json({ error: 'not_found', message: 'no timeline for this company' }, 404);
    const { from = new Date(0), to = new Date('2200-01-01T00:00:00Z'), limit } = params.data;
    const page = await readTimeline(storage, { enterpriseId: id.data, from, to, limit, after: after ?? undefined });
    // The register status frames the record: a check after deregistered_on is a low-quality check (海曙 已注销).
    const status = company?.status || 'active';
    return c.json({ enterprise_id: id.data, status, ...(status === 'deregistered' && company?.deregistered_on ? { deregistered_on: company.deregistered_on } : {}), ...page });
  });
  return app;
}

// A caller limited to a jurisdiction sees companies the reference data places inside it (an unknown company: none).
async function companyStatus(storage: Storage, enterpriseId: string): Promise<{ region: string; status: string; deregistered_on: string | null } | null> {
  const [row] = await storage.query<{ region: string; status: string; deregistered_on: string | null }>(
    'SELECT region, status, deregistered_on FROM enterprises FINAL WHERE enterprise_id = {id:String} LIMIT 1', { id: enterpriseId });
  return row ?? null;
}
