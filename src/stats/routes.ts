import { Hono } from 'hono';
import { z } from 'zod';
import { jurisdictionOf, narrowRegion } from '../auth/index.js';
import { invalid } from '../http/body.js';
import { fieldErrors, TimeBound } from '../http/query.js';
import { AgencyId } from '../ingest/index.js';
import type { RuleSet } from '../rules/load.js';
import type { Storage } from '../storage/index.js';
import { runStat, STATS, statNamed, statsContext, type StatDefinition } from './index.js';

const DAY_MS = 86_400_000;
/** The last instant storage holds (TimeBound moves later bounds here; a whole day after it must not pass it). */
const LATEST = Date.parse('2299-12-31T23:59:59.999Z');
/** Without a range: the last 30 days, as the boards open. */
const DEFAULT_DAYS = 30;

export const StatParamsQuery = z.object({
  from: TimeBound.optional().describe('Start of the range, included (default: 30 days before `to`)'),
  to: TimeBound.optional().describe('End of the range, included; a date is the whole day (default: now)'),
  region: z.string().regex(/^\d{2,6}$/, 'must be 2 to 6 digits of a division code, e.g. 37, 3714 or 371402').optional(),
  agency: AgencyId.optional(),
}).strict().refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'must not be after to', path: ['from'] });

const describe = (stat: StatDefinition) => ({ name: stat.name, title: stat.title, description: stat.description, columns: stat.columns });

/**
 * The statistics of the justice bureau's view and the Grafana boards (src/stats): the list, and one statistic
 * computed for a range, a region prefix and an agency, narrowed to the token's jurisdiction.
 */
export function statsRoutes(storage: Storage, rules: () => Pick<RuleSet, 'rules' | 'policy'>): Hono {
  const app = new Hono();
  app.get('/v1/stats', (c) => c.json({ items: STATS.map(describe) }));
  app.get('/v1/stats/:name', async (c) => {
    const stat = statNamed(c.req.param('name'));
    if (!stat) return c.json({ error: 'not_found', message: `no statistic ${c.req.param('name')}; GET /v1/stats lists them` }, 404);
    const query = StatParamsQuery.safeParse(c.req.query());
    if (!query.success) return invalid(c, 'bad statistics request', fieldErrors(query.error));
    // A bare date for `to` is that whole Shanghai day, as `from`'s bare date is from its start.
    const wholeDay = /^\d{4}-\d{2}-\d{2}$/.test(c.req.query('to') ?? '');
    const to = query.data.to ? new Date(Math.min(LATEST, query.data.to.getTime() + (wholeDay ? DAY_MS - 1 : 0))) : new Date();
    const from = query.data.from ?? new Date(to.getTime() - DEFAULT_DAYS * DAY_MS);
    const agency = query.data.agency ?? '';
    const region = narrowRegion(query.data.region, jurisdictionOf(c));
    const params = { from: from.toISOString(), to: to.toISOString(), region: region ?? query.data.region ?? '', agency };
    // Asked for a region the token cannot see: nothing, as lists answer outside a jurisdiction.
    const rows = region === null ? [] : await runStat(storage, stat, statsContext(rules()), { from, to, region: region ?? '', agency });
    return c.json({ ...describe(stat), params, rows });
  });
  return app;
}
