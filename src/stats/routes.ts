import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { jurisdictionOf, narrowRegion } from '../auth/index.js';
import { firstValues, TimeBound } from '../http/query.js';
import { defineRoute, failure, json, requestErrors, routeGroup } from '../http/route.js';
import { AgencyId } from '../ingest/index.js';
import type { RuleSet } from '../rules/load.js';
import type { Storage } from '../storage/index.js';
import { runStat, STATS, statNamed, statsContext, type StatDefinition } from './index.js';

const DAY_MS = 86_400_000;
/** Without a range: the last 30 days, as the boards open. */
const DEFAULT_DAYS = 30;
/** The last instant storage holds (TimeBound moves later bounds here; a whole day after it must not pass it). */
const LATEST = Date.parse('2299-12-31T23:59:59.999Z');

export const StatParamsQuery = z.object({
  from: TimeBound.optional().describe('Start of the range, included; RFC 3339 or YYYY-MM-DD (Asia/Shanghai). Default: 30 days before `to`'),
  to: TimeBound.optional().describe('End of the range, included; RFC 3339 or YYYY-MM-DD (the whole Asia/Shanghai day). Default: now'),
  region: z.string().regex(/^\d{2,6}$/, 'must be 2 to 6 digits of a division code, e.g. 37, 3714 or 371402').optional()
    .describe('Prefix of the division code: 37, 3714 or 371402'),
  agency: AgencyId.optional().describe('An agency_id'),
}).strict().refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'must not be after to', path: ['from'] });

const tags = ['statistics'];
const Column = { type: 'object', required: ['name', 'kind', 'zh', 'en'], properties: { name: { type: 'string' }, kind: { type: 'string' }, zh: { type: 'string' }, en: { type: 'string' } } };
const Described = {
  name: { type: 'string' },
  title: { type: 'object', required: ['zh', 'en'], properties: { zh: { type: 'string' }, en: { type: 'string' } } },
  description: { type: 'string' },
  columns: { type: 'array', items: Column },
};

const listStats = defineRoute({
  method: 'get', path: '/v1/stats', access: ['stats:read'], tags,
  summary: "The statistics of the justice bureau's view and the Grafana boards (src/stats): name, title, what is counted, columns",
  responses: { 200: json('The statistics', { type: 'object', required: ['items'], properties: { items: { type: 'array', items: { type: 'object', properties: Described } } } }) },
});

const getStat = defineRoute({
  method: 'get', path: '/v1/stats/{name}', access: ['stats:read'], tags,
  summary: 'One statistic for a time range, a region prefix and an agency',
  description: "The same SQL as the Grafana panel whose query's refId is the name. A caller limited to a jurisdiction gets it narrowed "
    + 'there; a region outside it gives no rows. Numbers are numbers; a share of nothing is null.',
  request: {
    params: z.object({ name: z.string().describe(`One of ${STATS.map((s) => s.name).join(', ')}`) }),
    query: firstValues(StatParamsQuery),
  },
  responses: {
    200: json('The statistic and its rows', {
      type: 'object',
      required: ['name', 'title', 'description', 'columns', 'params', 'rows'],
      properties: {
        ...Described,
        params: { type: 'object', description: 'The range and filters applied, after the jurisdiction narrowed them' },
        rows: { type: 'array', items: { type: 'object' } },
      },
    }),
    400: failure('Bad parameters (named in errors)'),
    404: failure('Unknown statistic'),
  },
});

const describe = (stat: StatDefinition) => ({ name: stat.name, title: stat.title, description: stat.description, columns: stat.columns });

/**
 * The statistics of the justice bureau's view and the Grafana boards (src/stats): the list, and one statistic
 * computed for a range, a region prefix and an agency, narrowed to the token's jurisdiction.
 */
export function statsRoutes(storage: Storage, rules: () => Pick<RuleSet, 'rules' | 'policy'>): OpenAPIHono {
  const app = routeGroup();
  app.openapi(listStats, (c) => c.json({ items: STATS.map(describe) }));
  app.openapi(getStat, async (c) => {
    const { name } = c.req.valid('param');
    const stat = statNamed(name);
    if (!stat) return c.json({ error: 'not_found', message: `no statistic ${name}; GET /v1/stats lists them` }, 404);
    const query = c.req.valid('query');
    // A bare date for `to` is that whole Shanghai day, as `from`'s bare date is from its start.
    const wholeDay = /^\d{4}-\d{2}-\d{2}$/.test(c.req.query('to') ?? '');
    const to = query.to ? new Date(Math.min(LATEST, query.to.getTime() + (wholeDay ? DAY_MS - 1 : 0))) : new Date();
    const from = query.from ?? new Date(to.getTime() - DEFAULT_DAYS * DAY_MS);
    const agency = query.agency ?? '';
    const region = narrowRegion(query.region, jurisdictionOf(c));
    const params = { from: from.toISOString(), to: to.toISOString(), region: region ?? query.region ?? '', agency };
    // Asked for a region the token cannot see: nothing, as lists answer outside a jurisdiction.
    const rows = region === null ? [] : await runStat(storage, stat, statsContext(rules()), { from, to, region: region ?? '', agency });
    return c.json({ ...describe(stat), params, rows });
  }, requestErrors('bad statistics request'));
  return app;
}
