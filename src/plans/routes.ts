import { Hono, type Context } from 'hono';
import { auditContext, type AuditEntry, type AuditLog } from '../audit/index.js';
import { emptyPage, jurisdictionOf, narrowRegion, outsideMessage, principalOf, refuseOutside, within, type OutsideItem } from '../auth/index.js';
import { calendarDate } from '../calendar/index.js';
import { invalid, readJson } from '../http/body.js';
import { fieldErrors } from '../http/query.js';
import type { Homes } from '../reference/homes.js';
import { z } from 'zod';
import type { PlanChecker } from './checker.js';
import { CheckRequest, SuggestionBody, type DraftPlan } from './model.js';

export interface PlanRoutesOptions {
  checker: PlanChecker;
  homes: Pick<Homes, 'regions'>;
  audit: AuditLog;
}

const UpcomingParams = z.object({
  region: z.string().regex(/^\d{2,6}$/, 'must be 2 to 6 digits of a division code, e.g. 33, 3311 or 331125').optional(),
  limit: z.coerce.number().int().min(1).max(2000).default(500),
}).strict();

const notFound = (c: Context) => c.json({ error: 'not_found', message: 'no such plan' }, 404);

/**
 * The plan check before the visit (POST /v1/plans/check, stores nothing), the
 * stored checks of filed plans for the office that coordinates inspections
 * (计划统筹), and its suggestions (合并/线上/变更/取消), each in the audit log.
 */
export function planRoutes(options: PlanRoutesOptions): Hono {
  const { checker } = options;
  const app = new Hono();

  app.post('/v1/plans/check', async (c) => {
    const read = await readJson(c);
    if (!read.ok) return read.response;
    const body = CheckRequest.safeParse(read.value);
    if (!body.success) return invalid(c, 'bad plan check request', fieldErrors(body.error, 'is not a known field'), 'validation_failed');
    const jurisdiction = jurisdictionOf(c);
    if (body.data.plan_id !== undefined) {
      const plan = await checker.filed(body.data.plan_id);
      if (!plan || !within(plan.region, jurisdiction)) return notFound(c);
      return c.json(await checker.check(plan));
    }
    const draft = body.data.plan!;
    const refused = await outside(draft, jurisdiction, options.homes);
    if (refused.length > 0) return refuseOutside(c, refused);
    const { plan_id, reviewed_by, ...rest } = draft;
    return c.json(await checker.check({ ...rest, plan_id: plan_id ?? null, reviewed_by: reviewed_by ?? '', filed_at: Date.now(), status: 'filed' }));
  });

  app.get('/v1/plans/upcoming', async (c) => {
    const params = UpcomingParams.safeParse(c.req.query());
    if (!params.success) return invalid(c, 'bad plans request', fieldErrors(params.error));
    const region = narrowRegion(params.data.region, jurisdictionOf(c));
    if (region === null) return emptyPage(c);
    const items = await checker.store.upcoming(region ?? '', calendarDate(Date.now()), params.data.limit);
    const suggestions = await checker.store.suggestions([...new Set(items.map((i) => i.plan_id))]);
    return c.json({ items, suggestions, next_cursor: null });
  });

  app.get('/v1/plans/:id/check', async (c) => {
    const rows = (await checker.store.forPlan(c.req.param('id'))).filter((r) => within(r.region, jurisdictionOf(c)));
    if (rows.length === 0) return notFound(c);
    return c.json({ plan_id: c.req.param('id'), companies: rows, suggestions: await checker.store.suggestions([c.req.param('id')]) });
  });

  app.post('/v1/plans/:id/suggestions', async (c) => {
    const read = await readJson(c);
    if (!read.ok) return read.response;
    const body = SuggestionBody.safeParse(read.value);
    if (!body.success) return invalid(c, 'bad suggestion', fieldErrors(body.error, 'is not a known field'), 'validation_failed');
    const plan = await checker.filed(c.req.param('id'));
    if (!plan || !within(plan.region, jurisdictionOf(c))) return notFound(c);
    const { actor, action, with_plan_ids, window_start, window_end, note } = body.data;
    const context = auditContext(c);
    const at = new Date().toISOString();
    const record = {
      plan_id: plan.plan_id!, action, with_plan_ids, window_start: window_start ?? null, window_end: window_end ?? null, note,
      region: plan.region, agency_id: plan.agency_id, actor, actor_role: context.actor_role, at,
    };
    const entry = (id: string): AuditEntry => ({
      id: `plan:${plan.plan_id}:suggestion:${id}`, at, actor, actor_role: context.actor_role, action: 'plan.suggest', target_kind: 'plan',
      target_id: plan.plan_id!, region: plan.region, revision: 0, before: {},
      after: { action, with_plan_ids, window_start: record.window_start, window_end: record.window_end, token_name: principalOf(c).name },
      note, request_id: context.request_id,
    });
    // The audit entry first: no suggestion reaches the agencies unrecorded. Both fold on the suggestion's id when retried.
    const id = await checker.store.suggestionId(record);
    await options.audit.record([entry(id)]);
    return c.json(await checker.store.suggest(record), 201);
  });

  return app;
}

/** The draft's region and the home of every company and agency it names must lie inside the caller's jurisdiction. */
async function outside(draft: DraftPlan, jurisdiction: string, homes: Pick<Homes, 'regions'>): Promise<OutsideItem[]> {
  if (!jurisdiction) return [];
  const refused: OutsideItem[] = [];
  if (!within(draft.region, jurisdiction)) refused.push({ index: null, field: 'plan.region', message: outsideMessage(jurisdiction) });
  const agencies = [draft.agency_id, ...draft.joint_agency_ids];
  const [companyHomes, agencyHomes] = await Promise.all([homes.regions('enterprise', draft.enterprise_ids), homes.regions('agency', agencies)]);
  draft.enterprise_ids.forEach((id, i) => {
    const home = companyHomes.get(id);
    if (home !== undefined && !within(home, jurisdiction)) refused.push({ index: null, field: `plan.enterprise_ids.${i}`, message: outsideMessage(jurisdiction) });
  });
  agencies.forEach((id, i) => {
    const home = agencyHomes.get(id);
    const field = i === 0 ? 'plan.agency_id' : `plan.joint_agency_ids.${i - 1}`;
    if (home !== undefined && !within(home, jurisdiction)) refused.push({ index: null, field, message: outsideMessage(jurisdiction) });
  });
  return refused;
}
