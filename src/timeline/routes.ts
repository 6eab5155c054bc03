import { Hono } from 'hono';
import { z } from 'zod';
import { EnterpriseId } from '../ingest/index.js';
import type { Storage } from '../storage/index.js';
import { decodeCursor, readTimeline } from './store.js';

// A bare date is a calendar day in China: 2026-03-01 means from 2026-03-01T00:00+08:00.
const Bound = z.union([
  z.iso.datetime({ offset: true }).transform((t) => new Date(t)),
  z.iso.date().transform((d) => new Date(`${d}T00:00:00+08:00`)),
], { message: 'must be an RFC 3339 time with offset or a date YYYY-MM-DD' });

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
    if (!params.success) {
      for (const i of params.error.issues) {
        const field = i.code === 'unrecognized_keys' ? i.keys.join(', ') : i.path.join('.');
        errors.push({ index: null, field, message: i.code === 'unrecognized_keys' ? 'is not a known parameter' : i.message });
      }
    }
    const cursorText = c.req.query('cursor');
    const after = cursorText === undefined ? undefined : decodeCursor(cursorText);
    if (after === null) errors.push({ index: null, field: 'cursor', message: 'is not a cursor this service issued' });
    if (errors.length > 0 || !params.success || !id.success) {
      return c.json({ error: 'invalid_request', message: 'bad timeline request', errors }, 400);
    }
    const { from = new Date(0), to = new Date('2200-01-01T00:00:00Z'), limit } = params.data;
    const page = await readTimeline(storage, { enterpriseId: id.data, from, to, limit, after: after ?? undefined });
    return c.json({ enterprise_id: id.data, ...page });
  });
  return app;
}
