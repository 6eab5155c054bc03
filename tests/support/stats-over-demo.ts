import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRuleSet } from '../../src/rules/load.js';
import { GRAFANA_DIALECT, normaliseRow, STATS, statsContext, type StatsContext } from '../../src/stats/index.js';
import { loadDemoHistory } from './demo-history.js';
import { ALL, dashboardShape, expandClickHouse, loadDashboardFiles, type QueryRange, type VariableValue } from './grafana.js';
import { createToken, get, type TestService } from './service.js';

/**
 * GET /v1/stats/{name} against the board's SQL, expanded as Grafana and the ClickHouse plugin would, on the
 * same month of demo data: each statistic gives equal rows both ways, with All and with a region and agency;
 * the route narrows to the token's jurisdiction and names bad input. Run for each storage adapter.
 */
const DASHBOARDS = fileURLToPath(new URL('../../dashboards/', import.meta.url));
const RULES = fileURLToPath(new URL('../../rules/', import.meta.url));
const DAY = 86_400_000;
const justice = dashboardShape.parse(loadDashboardFiles(DASHBOARDS).find((b) => b.file === 'justice-audit.json')!.json);

const WORLD = { seed: 18, enterprisesPerRegion: 30, regions: ['371400', '370600', '331125', '330203'], visitsPerDay: 16, idPrefix: 'stats' };

const params = (range: QueryRange, region = '', agency = '') => {
  const q = new URLSearchParams({ from: range.from.toISOString(), to: range.to.toISOString() });
  if (region) q.set('region', region);
  if (agency) q.set('agency', agency);
  return q.toString();
};

/** The statistic's SQL as a Grafana panel would send it, run on the service's storage. */
async function boardRows(service: TestService, context: StatsContext, name: string, range: QueryRange, values: Record<string, VariableValue>) {
  const stat = STATS.find((s) => s.name === name)!;
  const sql = expandClickHouse(stat.sql(GRAFANA_DIALECT, context), justice.templating.list, values, range);
  const rows = await service.storage.query<Record<string, unknown>>(sql);
  return rows.map((row) => normaliseRow(stat.columns, row));
}

export function describeStatsOverDemo(storage: string, start: () => Promise<TestService>): void {
  describe(`GET /v1/stats/{name} over demo data, ${storage}`, () => {
    let range: QueryRange;
    let service: TestService;
    let context: StatsContext;
    const board = (name: string, values: Record<string, VariableValue>) => boardRows(service, context, name, range, values);

    beforeAll(async () => {
      context = statsContext(await loadRuleSet(RULES));
      service = await start();
      await loadDemoHistory(service, WORLD);
      // Whole seconds: the plugin's $__timeFilter works in seconds.
      const to = new Date(Math.floor(Date.now() / 1000) * 1000);
      range = { from: new Date(to.getTime() - 31 * DAY), to, intervalMs: 3_600_000 };
    }, 240_000);

    afterAll(async () => {
      await service?.dispose();
    });

    it('gives the board\'s rows for every statistic, with All', async () => {
      const empty: string[] = [];
      for (const stat of STATS) {
        const res = await get(`${service.url}/v1/stats/${stat.name}?${params(range)}`);
        expect(res.status, stat.name).toBe(200);
        expect(res.body.columns.map((c: { name: string }) => c.name), stat.name).toEqual(stat.columns.map((c) => c.name));
        expect(res.body.rows, stat.name).toEqual(await board(stat.name, { region: ALL, agency: ALL }));
        if (res.body.rows.length === 0) empty.push(stat.name);
      }
      // Equal and empty proves little: the demo month fills every statistic.
      expect(empty).toEqual([]);
    });

    it('gives the board\'s rows with a region and an agency chosen', async () => {
      const region = '3311';
      const agency = (await get(`${service.url}/v1/stats/joint-and-detection-by-agency?${params(range, region)}`)).body.rows[0].agency_id as string;
      expect(agency.startsWith('3311')).toBe(true);
      let filled = 0;
      for (const stat of STATS) {
        const res = await get(`${service.url}/v1/stats/${stat.name}?${params(range, region, agency)}`);
        expect(res.body.rows, stat.name).toEqual(await board(stat.name, { region, agency }));
        if (res.body.rows.length > 0) filled++;
      }
      expect(filled).toBeGreaterThan(STATS.length / 2);
    });

    it('counts plans carried out as the weekly review does (GET /v1/plans/review), week by week and agency by agency', async () => {
      const stat = await get(`${service.url}/v1/stats/plan-execution-by-week?${params(range)}`);
      // The range cuts its first and last weeks, which the review lists whole: compare the weeks between.
      const weeks: string[] = [...new Set<string>(stat.body.rows.map((r: { week: string }) => r.week))].sort().slice(1, -1);
      expect(weeks.length).toBeGreaterThan(2);
      for (const week of weeks) {
        const review = await get(`${service.url}/v1/plans/review?week=${week}`);
        expect(review.status, week).toBe(200);
        const fromReview = (review.body.agencies as Array<{ agency_id: string; planned: number; carried_out: number; not_carried_out: number; cancelled: number }>)
          .map(({ agency_id, planned, carried_out, not_carried_out, cancelled }) => ({ agency_id, planned, carried_out, not_carried_out, cancelled }));
        const fromStat = stat.body.rows.filter((r: { week: string }) => r.week === week)
          .map(({ agency_id, planned, carried_out, not_carried_out, cancelled }: Record<string, unknown>) => ({ agency_id, planned, carried_out, not_carried_out, cancelled }));
        const byAgency = (rows: Array<{ agency_id: string }>) => [...rows].sort((a, b) => a.agency_id.localeCompare(b.agency_id));
        expect(byAgency(fromStat), week).toEqual(byAgency(fromReview));
      }
    });

    it('narrows to the token\'s jurisdiction, for the justice and discipline roles; others may not read statistics', async () => {
      const { token } = await createToken(service.url, 'justice', { jurisdiction: '3714' });
      const mine = await get(`${service.url}/v1/stats/breaches-by-region?${params(range)}`, token);
      expect(mine.status).toBe(200);
      expect(mine.body.params.region).toBe('3714');
      expect(mine.body.rows.length).toBeGreaterThan(0);
      expect(mine.body.rows.every((r: { region: string }) => r.region.startsWith('3714'))).toBe(true);
      expect(mine.body.rows).toEqual(await board('breaches-by-region', { region: '3714', agency: ALL }));
      // Another city is nothing at all, not an error that tells it exists.
      const other = await get(`${service.url}/v1/stats/breaches-by-region?${params(range, '3706')}`, token);
      expect(other.status).toBe(200);
      expect(other.body.rows).toEqual([]);

      const discipline = await createToken(service.url, 'discipline');
      expect((await get(`${service.url}/v1/stats/inspections`, discipline.token)).status).toBe(200);
      const hotline = await createToken(service.url, 'hotline');
      expect((await get(`${service.url}/v1/stats/inspections`, hotline.token)).status).toBe(403);
      expect((await get(`${service.url}/v1/stats`, hotline.token)).status).toBe(403);
    });

    it('lists the statistics, and names a bad parameter or an unknown statistic', async () => {
      const list = await get(`${service.url}/v1/stats`);
      expect(list.body.items.map((s: { name: string }) => s.name)).toEqual(STATS.map((s) => s.name));
      expect((await get(`${service.url}/v1/stats/no-such-thing`)).status).toBe(404);
      const bad = await get(`${service.url}/v1/stats/inspections?from=yesterday&region=3x&agency=${'a'.repeat(100)}&colour=red`);
      expect(bad.status).toBe(400);
      expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['agency', 'colour', 'from', 'region']);
      const reversed = await get(`${service.url}/v1/stats/inspections?from=2026-12-01&to=2026-11-01`);
      expect(reversed.status).toBe(400);
      expect(reversed.body.errors[0].field).toBe('from');
    });

    it('defaults to the last 30 days', async () => {
      const res = await get(`${service.url}/v1/stats/inspections`);
      expect(res.status).toBe(200);
      const span = Date.parse(res.body.params.to) - Date.parse(res.body.params.from);
      expect(span).toBe(30 * DAY);
      expect(res.body.rows[0].inspections).toBeGreaterThan(0);
      // Dates are Shanghai days, both included.
      const month = await get(`${service.url}/v1/stats/inspections?from=2026-11-01&to=2026-11-30`);
      expect(month.body.params).toMatchObject({ from: '2026-10-31T16:00:00.000Z', to: '2026-11-30T15:59:59.999Z' });
      const far = await get(`${service.url}/v1/stats/inspections?from=2299-12-31&to=9999-12-31`);
      expect(far.status).toBe(200);
      expect(far.body.rows[0].inspections).toBe(0);
    });
  });
}
