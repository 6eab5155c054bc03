import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { jurisdictionOf, narrowRegion } from '../auth/index.js';
import { firstValues } from '../http/query.js';
import { components, defineRoute, failure, json, ref, routeGroup } from '../http/route.js';
import type { Storage } from '../storage/index.js';
import { isoWeekDays, weeklyReview } from './review.js';

const ISO_WEEK = /^\d{4}-W\d{2}$/;

export const ReviewParams = z.object({
  region: z.string().regex(/^\d{2,6}$/, 'must be 2 to 6 digits of a division code, e.g. 33, 3302 or 330203').optional()
    .describe("Prefix of the division code of the plans (default: the token's jurisdiction)"),
  week: z.string()
    .regex(ISO_WEEK, 'must be an ISO week like 2025-W33')
    .refine((w) => !ISO_WEEK.test(w) || isoWeekDays(w) !== null, 'is not a week of that ISO year (weeks 01 to 52, or 53 in long years)')
    .describe('ISO week, e.g. 2025-W33 (Monday 11 to Sunday 17 August 2025)'),
}).strict();

const review = defineRoute({
  method: 'get', path: '/v1/plans/review', access: ['alerts:read'], tags: ['plans'],
  summary: "The weekly review of plans (海曙 以周為單位回看執行情況): each agency's plan tasks whose window ends in the ISO week",
  description: 'A task is a plan at one company, read in its latest version: carried_out when a visit is linked to it '
    + '(an on-site scan or record at the company by its agency or a joint agency, on a day of its window, naming this plan or none), '
    + "cancelled when its latest version cancels it, not_carried_out otherwise. Narrowed to the token's jurisdiction; "
    + 'who reads alerts reads the review.',
  request: { query: firstValues(ReviewParams) },
  responses: { 200: json('The review', ref('PlanReview')), 400: failure('Bad parameters (named in errors)') },
});

const task = {
  type: 'object',
  required: ['plan_id', 'enterprise_id', 'enterprise_name', 'window_start', 'window_end', 'joint_agency_ids', 'status', 'visit'],
  properties: {
    plan_id: { type: 'string' },
    enterprise_id: { type: 'string' },
    enterprise_name: { type: ['string', 'null'] },
    window_start: { type: 'string', format: 'date' },
    window_end: { type: 'string', format: 'date' },
    joint_agency_ids: { type: 'array', items: { type: 'string' } },
    status: { enum: ['carried_out', 'not_carried_out', 'cancelled'] },
    visit: {
      type: ['object', 'null'],
      description: 'The first linked visit',
      properties: { id: { type: 'string' }, agency_id: { type: 'string' }, at: { type: 'string', format: 'date-time' } },
    },
  },
};

/** GET /v1/plans/review?region&week: the weekly look back at plans (海曙 周回看), narrowed to the caller's jurisdiction. */
export function planReviewRoutes(storage: Storage): OpenAPIHono {
  const app = routeGroup();
  components(app, {
    PlanReview: {
      type: 'object',
      required: ['region', 'week', 'from', 'to', 'agencies'],
      properties: {
        region: { type: 'string' },
        week: { type: 'string', example: '2025-W33' },
        from: { type: 'string', format: 'date', description: 'Monday of the week' },
        to: { type: 'string', format: 'date', description: 'Sunday of the week' },
        agencies: {
          type: 'array',
          items: {
            type: 'object',
            required: ['agency_id', 'name', 'planned', 'carried_out', 'not_carried_out', 'cancelled', 'tasks'],
            properties: {
              agency_id: { type: 'string' },
              name: { type: ['string', 'null'] },
              planned: { type: 'integer', description: 'Tasks not cancelled (carried_out + not_carried_out)' },
              carried_out: { type: 'integer' },
              not_carried_out: { type: 'integer' },
              cancelled: { type: 'integer' },
              tasks: { type: 'array', items: task },
            },
          },
        },
      },
    },
  });
  app.openapi(review, async (c) => {
    const { week, region: asked } = c.req.valid('query');
    const region = narrowRegion(asked, jurisdictionOf(c));
    if (region === null) return c.json({ region: asked, week, ...isoWeekDays(week)!, agencies: [] });
    return c.json(await weeklyReview(storage, { region: region ?? '', week }));
  });
  return app;
}
