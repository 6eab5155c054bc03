import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRuleSet } from '../src/rules/load.js';
import { panelsOf, syncBoard } from '../src/stats/board.js';
import { GRAFANA_DIALECT, STATS, statsContext, type StatsContext } from '../src/stats/index.js';
import { dashboardShape, loadDashboardFiles } from './support/grafana.js';
import { startTestService } from './support/service.js';
import { describeStatsOverDemo } from './support/stats-over-demo.js';

// One source for the statistics (issue 18): each statistic is defined once in src/stats; GET /v1/stats/{name}
// and the Grafana boards run its SQL. The boards in the tree are what the definitions write, and the API and the
// board's SQL, expanded as Grafana and the ClickHouse plugin would, give the same rows on the same data.

const DASHBOARDS = fileURLToPath(new URL('../dashboards/', import.meta.url));
const RULES = fileURLToPath(new URL('../rules/', import.meta.url));

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

// ---------- the API and the board on the same data (embedded engine; tests/stats.server.test.ts: the server adapter) ----------

describeStatsOverDemo('the embedded engine', () => startTestService({ RULES_WATCH: 'false' }));
