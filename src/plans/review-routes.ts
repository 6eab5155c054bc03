import { Hono } from 'hono';
import { z } from 'zod';
import { jurisdictionOf, narrowRegion } from '../auth/index.js';
import { fieldErrors } from '../http/query.js';
import type { Storage } from '../storage/index.js';
import { isoWeekDays, weeklyReview } from './review.js';

export const ReviewParams = z.object({
  region: z.string().regex(/^\d{2,6}$/, 'must be 2 to 6 digits of a division code, e.g. 33, 3302 or 330203').optional(),
  week: z.string()
    .regex(/^\d{4}-W\d{2}$/, 'must be an ISO week like 2025-W33')
    .refine((w) => !/^\d{4}-W\d{2}$/.test(w) || isoWeekDays(w) !== null, 'is not a week of that ISO year (weeks 01 to 52, or 53 in long years)'),
}).strict();

/** GET /v1/plans/review?region&week: the weekly look back at plans (海曙 周回看), narrowed to the caller's jurisdiction. */
export function planReviewRoutes(storage: Storage): Hono {
  const app = new Hono();
  app.get('/v1/plans/review', async (c) => {
    const params = ReviewParams.safeParse(c.req.query());
    if (!params.success) return c.json({ error: 'invalid_request', message: 'bad review request', errors: fieldErrors(params.error) }, 400);
    const { week } = params.data;
    const region = narrowRegion(params.data.region, jurisdictionOf(c));
    if (region === null) return c.json({ region: params.data.region, week, ...isoWeekDays(week)!, agencies: [] });
    return c.json(await weeklyReview(storage, { region: region ?? '', week }));
  });
  return app;
}
