import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { actorOf, auditContext, type AuditEntry, type AuditLog } from '../audit/index.js';
import { emptyPage, jurisdictionOf, narrowRegion, outsideMessage, principalOf, refuseOutside, within, type OutsideItem } from '../auth/index.js';
import { calendarDate } from '../calendar/index.js';
import { actingPerson } from '../http/body.js';
import { firstValues } from '../http/query.js';
import { defineRoute, failure, json, jsonBody, requestErrors, routeGroup } from '../http/route.js';
import type { Homes } from '../reference/homes.js';
import type { PlanChecker } from './checker.js';
import { CheckRequest, SuggestionBody, answerOf, type DraftPlan } from './model.js';

export interface PlanRoutesOptions {
  checker: PlanChecker;
  homes: Pick<Homes, 'regions'>;
  audit: AuditLog;
}

const UpcomingParams = z.object({
  region: z.string().regex(/^\d{2,6}$/, 'must be 2 to 6 digits of a division code, e.g. 33, 3311 or 331125').optional(),
  limit: z.coerce.number().int().min(1).max(2000).default(500),
}).strict();

const PlanId = z.object({ id: z.string() });
const tags = ['plans'];
const answer = (description: string) => json(description, { type: 'object' });

const checkPlanRoute = defineRoute({
  method: 'post', path: '/v1/plans/check', access: ['plans:check'], tags,
  summary: 'Check a plan before filing it, or a filed one: what it would breach or risk per company (stores nothing)',
  description: 'Per company, under the rules in force in its region (rules/regions.yaml): the annual cap (grade, visits so far, remaining), '
    + 'the quiet-period days of the window, the frequent-visits risk, the lead time as the region counts it, the 预告 still possible, '
    + 'white-list review, and merge candidates (other on-site plans for the company in the same days, of any agency or level). Each finding '
    + 'cites its rule and, by `source_id`, its clause; each company gets a verdict (ok, advise, breach) and suggestions (merge 合并检查, online 线上检查, '
    + 'change 变更检查 with the nearest window that breaches nothing, cancel 取消检查) whose `reason_id` names their reason. Each clause and reason '
    + 'is in the answer once, in `sources` and `reasons`. An ingest token checks plans of its own region only.',
  request: { body: jsonBody(CheckRequest) },
  responses: {
    200: answer('The check'),
    400: failure('A bad field (named in errors)'),
    403: failure("A company, agency or region outside the token's jurisdiction (named in errors)"),
    404: failure('No such filed plan in the jurisdiction'),
    415: failure('Content-Type is not JSON'),
  },
});

const upcomingRoute = defineRoute({
  method: 'get', path: '/v1/plans/upcoming', access: ['plans:read'], tags,
  summary: 'Filed plans whose window is not over, with their stored checks and suggestions (the 计划统筹 view)',
  request: { query: firstValues(UpcomingParams) },
  responses: { 200: answer('{items, suggestions}'), 400: failure('Bad parameters (named in errors)') },
});

const storedCheckRoute = defineRoute({
  method: 'get', path: '/v1/plans/{id}/check', access: ['plans:read'], tags,
  summary: 'The stored check of a filed plan (its latest version), per company, with the suggestions recorded for it',
  request: { params: PlanId },
  responses: { 200: answer('The check'), 404: failure('No such plan in the jurisdiction') },
});

const suggestRoute = defineRoute({
  method: 'post', path: '/v1/plans/{id}/suggestions', access: ['plans:coordinate'], tags,
  summary: "Record a suggestion to the plan's agencies (合并/线上/变更/取消); audited (plan.suggest) with the person and the token",
  request: { params: PlanId, body: jsonBody(SuggestionBody) },
  responses: { 201: answer('Recorded'), 400: failure('A bad field'), 404: failure('No such plan in the jurisdiction'), 415: failure('Content-Type is not JSON') },
});

const notFound = (c: Context) => c.json({ error: 'not_found', message: 'no such plan' }, 404);

/**
 * The plan check before the visit (POST /v1/plans/check, stores nothing), the
 * stored checks of filed plans for the office that coordinates inspections
 * (计划统筹), and its suggestions (合并/线上/变更/取消), each in the audit log.
 */
export function planRoutes(options: PlanRoutesOptions): OpenAPIHono {
  const { checker } = options;
  const app = routeGroup();

  app.openapi(checkPlanRoute, async (c) => {
    const body = c.req.valid('json');
    const jurisdiction = jurisdictionOf(c);
    if (body.plan_id !== undefined) {
      const plan = await checker.filed(body.plan_id);
      if (!plan || !within(plan.region, jurisdiction)) return notFound(c);
      return c.json(answerOf(await checker.check(plan)));
    }
    const draft = body.plan!;
    const refused = await outside(draft, jurisdiction, options.homes);
    if (refused.length > 0) return refuseOutside(c, refused);
    const { plan_id, reviewed_by, ...rest } = draft;
    return c.json(answerOf(await checker.check({ ...rest, plan_id: plan_id ?? null, reviewed_by: reviewed_by ?? '', filed_at: Date.now(), status: 'filed' })));
  });

  app.openapi(upcomingRoute, async (c) => {
    const params = c.req.valid('query');
    const region = narrowRegion(params.region, jurisdictionOf(c));
    if (region === null) return emptyPage(c);
    const items = await checker.store.upcoming(region ?? '', calendarDate(Date.now()), params.limit);
    const suggestions = await checker.store.suggestions([...new Set(items.map((i) => i.plan_id))]);
    return c.json({ items, suggestions, next_cursor: null });
  }, requestErrors('bad plans request'));

  app.openapi(storedCheckRoute, async (c) => {
    const rows = (await checker.store.forPlan(c.req.param('id'))).filter((r) => within(r.region, jurisdictionOf(c)));
    if (rows.length === 0) return notFound(c);
    return c.json({ plan_id: c.req.param('id'), companies: rows, suggestions: await checker.store.suggestions([c.req.param('id')]) });
  });

  app.openapi(suggestRoute, async (c) => {
    const plan = await checker.filed(c.req.param('id'));
    if (!plan || !within(plan.region, jurisdictionOf(c))) return notFound(c);
    const { actor: named, action, with_plan_ids, window_start, window_end, note } = c.req.valid('json');
    const person = actingPerson(c, named, 'actor');
    if (!person.ok) return person.response;
    const actor = person.name;
    const context = auditContext(c);
    const at = new Date().toISOString();
    const record = {
      plan_id: plan.plan_id!, action, with_plan_ids, window_start: window_start ?? null, window_end: window_end ?? null, note,
      region: plan.region, agency_id: plan.agency_id, actor, actor_role: context.actor_role, at,
    };
    const id = await checker.store.suggestionId(record);
    const entry: AuditEntry = {
      id: `plan:${plan.plan_id}:suggestion:${id}`, at, actor, ...actorOf(context), action: 'plan.suggest', target_kind: 'plan',
      target_id: plan.plan_id!, region: plan.region, revision: 0, before: {},
      after: { action, with_plan_ids, window_start: record.window_start, window_end: record.window_end, token_name: principalOf(c).name },
      note, request_id: context.request_id,
    };
    // The audit entry first: no suggestion reaches the agencies unrecorded. Both fold on the suggestion's id when retried.
    await options.audit.record([entry]);
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
