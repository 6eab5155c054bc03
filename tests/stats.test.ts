import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRuleSet } from '../src/rules/load.js';
import { panelsOf, syncBoard } from '../src/stats/board.js';
import { GRAFANA_DIALECT, normaliseRow, STATS, statsContext, type StatsContext } from '../src/stats/index.js';
import { ALL, dashboardShape, expandClickHouse, loadDashboardFiles, type QueryRange, type VariableValue } from './support/grafana.js';
import { loadDemoHistory } from './support/demo-history.js';
import { createToken, get, startTestService, type TestService } from './support/service.js';

// One source for the statistics (issue 18): each statistic is defined once in src/stats; GET /v1/stats/{name}
// and the Grafana boards run its SQL. The boards in the tree are what the definitions write, and the API and the
// board's SQL, expanded as Grafana and the ClickHouse plugin would, give the same rows on the same data.

const DASHBOARDS = fileURLToPath(new URL('../dashboards/', import.meta.url));
const RULES = fileURLToPath(new URL('../rules/', import.meta.url));
const DAY = 86_400_000;

let context: StatsContext;
const boards = loadDashboardFiles(DASHBOARDS);
const justice = dashboardShape.parse(boards.find((b) => b.file === 'justice-audit.json')!.json);

beforeAll(async () => {
  context = statsContext(await loadRuleSet(RULES));
});

describe('the definitions and the boards', () => {
  it('names every statistic once, in lower-case words', () => {
    const names = STATS.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.filter((n) => !/^[a-z]+(-[a-z]+)*$/.test(n))).toEqual([]);
    for (const stat of STATS) expect(new Set(stat.columns.map((c) => c.name)).size, stat.name).toBe(stat.columns.length);
  });

  it('counts a plan as filed in time by the lead days of its region\'s no-plan rule', () => {
    expect(context.leadDays.fallback).toBe(7);
    expect(Object.fromEntries(context.leadDays.byPrefix.map((p) => [p.prefix, p.days]))).toMatchObject({ 3706: 7, 330203: 0, 331125: 0 });
    const sql = STATS.find((s) => s.name === 'filing-ahead')!.sql(GRAFANA_DIALECT, context);
    // The longest prefix decides: 330203 (海曙) before any shorter one.
    expect(sql).toContain("multiIf(startsWith(region, '330203'), 0, startsWith(region, '331125'), 0,");
  });

  it('every board file is exactly what the definitions write (`qingjian stats boards` changes nothing)', () => {
    for (const { file, json } of boards) expect(syncBoard(json as Record<string, unknown>, context), file).toEqual(json);
  });

  it('takes every ClickHouse query of the justice board from a statistic, the issues\' indicators included', () => {
    const refIds = panelsOf(justice).flatMap((p) => (p.targets ?? []).map((t: { refId: string }) => t.refId));
    expect(refIds.filter((r: string) => !STATS.some((s) => s.name === r))).toEqual([]);
    expect(refIds).toEqual(expect.arrayContaining([
      'joint-rate', 'joint-and-detection-by-agency', 'low-quality-by-agency-month', 'plan-execution-by-week', 'plan-merging-by-agency',
    ]));
    // The discipline and hotline boards show four of the same statistics, from the same definitions.
    const others = boards.filter((b) => b.file !== 'justice-audit.json')
      .flatMap((b) => panelsOf(b.json as Record<string, unknown>).flatMap((p) => (p.targets ?? []).map((t: { refId: string }) => t.refId)));
    expect(others.filter((r: string) => STATS.some((s) => s.name === r)).sort()).toEqual([
      'false-positive-share-by-rule', 'hotline-sla-by-category', 'tickets-by-category-state', 'time-to-acknowledge-by-rule',
    ]);
    // A changed definition shows in the board check: the panel's SQL is compared with the definition's.
    const tampered = structuredClone(boards.find((b) => b.file === 'justice-audit.json')!.json) as { panels: Array<{ targets?: Array<{ rawSql: string }> }> };
    tampered.panels.find((p) => p.targets)!.targets![0]!.rawSql += ' ';
    expect(syncBoard(tampered, context)).not.toEqual(tampered);
  });
});

// ---------- the API and the board on the same data ----------

const WORLD = { seed: 18, enterprisesPerRegion: 30, regions: ['371400', '370600', '331125', '330203'], visitsPerDay: 16, idPrefix: 'stats' };
let service: TestService;

const params = (range: QueryRange, region = '', agency = '') => {
  const q = new URLSearchParams({ from: range.from.toISOString(), to: range.to.toISOString() });
  if (region) q.set('region', region);
  if (agency) q.set('agency', agency);
  return q.toString();
};

/** The statistic's SQL as a Grafana panel would send it, run on the service's storage. */
async function boardRows(name: string, range: QueryRange, values: Record<string, VariableValue>) {
  const stat = STATS.find((s) => s.name === name)!;
  const sql = expandClickHouse(stat.sql(GRAFANA_DIALECT, context), justice.templating.list, values, range);
  const rows = await service.storage.query<Record<string, unknown>>(sql);
  return rows.map((row) => normaliseRow(stat.columns, row));
}

describe('GET /v1/stats/{name} over demo data', () => {
  let range: QueryRange;

  beforeAll(async () => {
    service = await startTestService({ RULES_WATCH: 'false' });
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
      expect(res.body.rows, stat.name).toEqual(await boardRows(stat.name, range, { region: ALL, agency: ALL }));
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
      expect(res.body.rows, stat.name).toEqual(await boardRows(stat.name, range, { region, agency }));
      if (res.body.rows.length > 0) filled++;
    }
    expect(filled).toBeGreaterThan(STATS.length / 2);
  });

  it('narrows to the token\'s jurisdiction, for the justice and discipline roles; others may not read statistics', async () => {
    const { token } = await createToken(service.url, 'justice', { jurisdiction: '3714' });
    const mine = await get(`${service.url}/v1/stats/breaches-by-region?${params(range)}`, token);
    expect(mine.status).toBe(200);
    expect(mine.body.params.region).toBe('3714');
    expect(mine.body.rows.length).toBeGreaterThan(0);
    expect(mine.body.rows.every((r: { region: string }) => r.region.startsWith('3714'))).toBe(true);
    expect(mine.body.rows).toEqual(await boardRows('breaches-by-region', range, { region: '3714', agency: ALL }));
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
  });
});
