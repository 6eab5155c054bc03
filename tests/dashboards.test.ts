import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Alert } from '../src/alerts/model.js';
import { createRandom, createWorld, generateEvents } from '../src/demo/index.js';
import { staffRound, type StaffRound } from '../src/demo/staff.js';
import { bullPrefix, QUEUES } from '../src/queues/index.js';
import {
  ALL, CLICKHOUSE_MACROS, DATASOURCES, GRAFANA_BUILTINS,
  clickhouseQueries, dashboardModel, dashboardShape, expandClickHouse, loadDashboardFiles, macroCalls, prometheusQueries,
  promqlMetricNames, variableReferences, variableSql, vizPanels,
  type DashboardModel, type QueryRange, type VariableValue,
} from './support/grafana.js';
import { eventually, get, post, put, startTestService, TEST_TOKEN, type TestService } from './support/service.js';

// The Grafana boards in dashboards/: their JSON against Grafana's dashboard model, their provisioning, and every
// query as Grafana would send it, run on the real schema over demo data (ClickHouse) or evaluated by the real
// Prometheus (tests/prometheus.test.ts).

const DASHBOARDS = fileURLToPath(new URL('../dashboards/', import.meta.url));
const BOARD_UIDS = ['qingjian-discipline', 'qingjian-hotline', 'qingjian-justice', 'qingjian-service-health'];

const files = loadDashboardFiles(DASHBOARDS);
const results = files.map(({ file, json }) => ({ file, result: dashboardModel.safeParse(json) }));
// Boards of the right shape, layout problems or not, so one misplaced panel does not hide the board from the other checks.
const boards = files.flatMap(({ file, json }) => {
  const shaped = dashboardShape.safeParse(json);
  return shaped.success ? [{ file, board: shaped.data }] : [];
});
const clickhouseBoards = boards.filter(({ board }) => board.templating.list.some((v) => v.datasource?.uid === 'clickhouse'));

const readYaml = (path: string): unknown => parseYaml(readFileSync(`${DASHBOARDS}provisioning/${path}`, 'utf8'));

const datasourceProvisioning = z.object({
  apiVersion: z.literal(1),
  datasources: z.array(z.object({
    name: z.string(),
    uid: z.string(),
    type: z.string(),
    url: z.string().optional(),
    isDefault: z.boolean().optional(),
    jsonData: z.record(z.string(), z.unknown()).optional(),
    secureJsonData: z.record(z.string(), z.string()).optional(),
  })),
});

const dashboardProvisioning = z.object({
  apiVersion: z.literal(1),
  providers: z.array(z.object({
    name: z.string(),
    type: z.literal('file'),
    folder: z.string(),
    allowUiUpdates: z.boolean(),
    options: z.object({ path: z.string() }),
  })).length(1),
});

/** Chinese first, then a short English title after " · ". */
const bilingual = (title: string) => {
  const [zh, en, ...rest] = title.split(' · ');
  return rest.length === 0 && /\p{Script=Han}/u.test(zh ?? '') && !!en && /[A-Za-z]/.test(en) && !/\p{Script=Han}/u.test(en);
};

/** Every table a board reads is a ReplacingMergeTree: without FINAL a read counts revisions that have not merged yet. */
const REPLACING_TABLES = ['events', 'enterprises', 'agencies', 'alerts', 'alert_changes', 'silences', 'tickets', 'ticket_changes'];
const readsWithoutFinal = (sql: string) => [...sql.matchAll(/\b(?:FROM|JOIN)\s+(\w+)(?:\s+AS\s+\w+)?(\s+FINAL\b)?/gi)]
  .filter((m) => REPLACING_TABLES.includes(m[1]!) && !m[2]).map((m) => m[0]);

/** A ClickHouse query with its board, for expansion. */
const allClickHouseQueries = () => boards.flatMap(({ file, board }) => [
  ...board.templating.list.flatMap((v) => {
    const sql = variableSql(v);
    return sql ? [{ where: `${file} › variable ${v.name}`, sql, board, timeseries: false }] : [];
  }),
  ...clickhouseQueries(file, board).map((q) => ({ where: q.where, sql: q.target.rawSql, board, timeseries: q.target.format === 0 })),
]);

describe('expansion as Grafana and the ClickHouse plugin do it', () => {
  const range: QueryRange = { from: new Date('2026-11-01T00:00:00.250Z'), to: new Date('2026-11-20T12:00:00.750Z'), intervalMs: 3_600_000 };
  const variables = [
    { type: 'query' as const, name: 'region', includeAll: true, allValue: "''" },
    { type: 'query' as const, name: 'agency', includeAll: true, allValue: "''" },
  ];
  const sql = 'WHERE $__timeFilter(at) AND startsWith(region, ${region:sqlstring}) AND (${agency:sqlstring} = \'\' OR agency_id = ${agency:sqlstring}) AND $__fromTime_ms < $__toTime';

  it('puts All in as the empty string literal and a chosen value as an escaped literal', () => {
    expect(expandClickHouse(sql, variables, { region: ALL, agency: ALL }, range)).toBe(
      "WHERE at >= toDateTime(1793491200) AND at <= toDateTime(1795176000) AND startsWith(region, '') AND ('' = '' OR agency_id = '') " +
      'AND fromUnixTimestamp64Milli(1793491200250) < toDateTime(1795176000)');
    expect(expandClickHouse(sql, variables, { region: '3714', agency: 'o\'brien "x"' }, range)).toContain(
      `startsWith(region, '3714') AND ('o''brien \\"x\\"' = '' OR agency_id = 'o''brien \\"x\\"')`);
  });

  it('expands interval macros and leaves unknown names alone', () => {
    expect(expandClickHouse('$__timeInterval(at), $__interval_s, $__dateFilter(d), $other', variables, {}, range))
      .toBe("toStartOfInterval(toDateTime(at), INTERVAL 3600 second), 3600, d >= toDate('2026-11-01') AND d <= toDate('2026-11-20'), $other");
    expect(() => expandClickHouse('$__timeFilter(toDate(at))', variables, {}, range)).toThrow(/argument/);
    expect(() => expandClickHouse('$__conditionalAll(x, $region)', variables, { region: ALL }, range)).toThrow(/not a macro/);
  });

  it('finds the metric names in PromQL', () => {
    expect(promqlMetricNames('histogram_quantile(0.99, sum by (le, route) (rate(a_seconds_bucket{route!~"x|y"}[$__rate_interval])))')).toEqual(['a_seconds_bucket']);
    expect(promqlMetricNames('60 * sum without (instance) (rate(b_total[5m] offset 1h)) / on(job) group_left max(c{job="d"}) > bool 1e3')).toEqual(['b_total', 'c']);
  });
});

describe('dashboard files', () => {
  it('every JSON file in dashboards/ is a Grafana dashboard by the model', () => {
    expect(files.map((f) => f.file)).toEqual(['discipline.json', 'hotline.json', 'justice-audit.json', 'service-health.json']);
    const problems = results.flatMap(({ file, result }) =>
      result.success ? [] : result.error.issues.map((i) => `${file}: ${i.path.join('.')}: ${i.message}`));
    expect(problems).toEqual([]);
  });

  it('keeps stable, unique uids and bilingual titles (Chinese first)', () => {
    expect(boards.map(({ board }) => board.uid).sort()).toEqual(BOARD_UIDS);
    const titles = boards.flatMap(({ file, board }) => [board.title, ...board.panels.map((p) => p.title)].map((t) => `${file}: ${t}`));
    expect(titles.filter((t) => !bilingual(t.slice(t.indexOf(': ') + 2)))).toEqual([]);
    expect(boards.filter(({ board }) => !/^\p{Script=Han}/u.test(board.title)).map(({ file }) => file)).toEqual([]);
  });

  it('provisions the datasources the boards use, with the fixed uids', () => {
    const { datasources } = datasourceProvisioning.parse(readYaml('datasources/qingjian.yaml'));
    expect(Object.fromEntries(datasources.map((d) => [d.uid, d.type]))).toEqual(DATASOURCES);
    const clickhouse = datasources.find((d) => d.uid === 'clickhouse')!;
    expect(clickhouse.jsonData).toMatchObject({ host: 'clickhouse', port: 9000, protocol: 'native', username: 'grafana', defaultDatabase: 'qingjian' });
    expect(clickhouse.secureJsonData).toEqual({ password: '${GRAFANA_CLICKHOUSE_PASSWORD}' });
    const prometheus = datasources.find((d) => d.uid === 'prometheus')!;
    expect(prometheus).toMatchObject({ url: 'http://prometheus:9090', isDefault: false });

    const provisioned = new Set(datasources.map((d) => d.uid));
    const used = boards.flatMap(({ board }) => [
      ...board.templating.list.map((v) => v.datasource?.uid),
      ...vizPanels(board).flatMap((p) => [p.datasource?.uid, ...(p.targets ?? []).map((t) => t.datasource.uid)]),
    ]).filter((uid) => uid !== undefined);
    expect(used.filter((uid) => !provisioned.has(uid!))).toEqual([]);
    expect(new Set(used)).toEqual(provisioned);
  });

  it('provisions the boards from the folder docker compose mounts, read-only', () => {
    const [provider] = dashboardProvisioning.parse(readYaml('dashboards/qingjian.yaml')).providers;
    expect(provider).toMatchObject({ type: 'file', folder: '清检 Qingjian', allowUiUpdates: false, options: { path: '/var/lib/grafana/dashboards' } });
  });

  it('offers region and agency on the ClickHouse boards: single-select, All as the empty string literal', () => {
    expect(clickhouseBoards.map(({ file }) => file)).toEqual(['discipline.json', 'hotline.json', 'justice-audit.json']);
    for (const { file, board } of clickhouseBoards) {
      const variables = board.templating.list.map((v) => ({
        file, name: v.name, type: v.type, datasource: v.datasource?.uid, includeAll: v.includeAll, multi: v.multi, allValue: v.allValue,
        allowCustomValue: v.allowCustomValue,
      }));
      // No custom values: only options read from the data reach the SQL (sqlstring does not escape backslashes).
      expect(variables).toEqual(['region', 'agency'].map((name) => ({
        file, name, type: 'query', datasource: 'clickhouse', includeAll: true, multi: false, allValue: "''", allowCustomValue: false,
      })));
    }
  });

  it('uses only defined variables, Grafana built-ins and the plugin macros; SQL quotes every value with :sqlstring', () => {
    const problems: string[] = [];
    for (const { file, board } of boards) {
      const defined = new Set(board.templating.list.map((v) => v.name));
      const check = (where: string, text: string, sql: boolean) => {
        for (const { name, format } of variableReferences(text)) {
          const macro = sql && CLICKHOUSE_MACROS.has(name);
          if (!defined.has(name) && !GRAFANA_BUILTINS.has(name) && !macro) problems.push(`${where}: unknown variable $${name}`);
          // Unquoted, a value would be spliced into the SQL as code.
          if (sql && defined.has(name) && format !== 'sqlstring') problems.push(`${where}: $${name} without :sqlstring`);
        }
        if (sql) {
          for (const { name, args } of macroCalls(text)) {
            if (args.some((a) => !/^[\w.]+$/.test(a))) problems.push(`${where}: $__${name}(${args.join(', ')}) needs plain column arguments`);
          }
          if (text.includes('$__conditionalAll')) problems.push(`${where}: $__conditionalAll (use the empty-string All instead)`);
        }
      };
      for (const v of board.templating.list) {
        const sql = variableSql(v);
        if (sql) check(`${file} › variable ${v.name}`, sql, true);
      }
      for (const q of clickhouseQueries(file, board)) check(q.where, q.target.rawSql, true);
      for (const q of prometheusQueries(file, board)) check(q.where, q.target.expr, false);
    }
    expect(problems).toEqual([]);
  });

  it('reads current state: every replacing table with FINAL', () => {
    const missing = allClickHouseQueries().flatMap(({ where, sql }) => readsWithoutFinal(sql).map((read) => `${where}: ${read}`));
    expect(missing).toEqual([]);
  });

  it('asks for time series exactly on time-series panels, and honours the time range unless a panel says why not', () => {
    const problems: string[] = [];
    for (const { file, board } of boards) {
      for (const { where, panel, target } of clickhouseQueries(file, board)) {
        if ((panel.type === 'timeseries') !== (target.format === 0)) problems.push(`${where}: format ${target.format} on a ${panel.type} panel`);
        const timed = /\$__(timeFilter|timeFilter_ms|dateFilter|dateTimeFilter|dt|fromTime|toTime)|\$\{?__(from|to)\b/.test(target.rawSql);
        if (!timed && !panel.description?.includes('不受时间范围限制')) problems.push(`${where}: ignores the time range without saying so`);
      }
    }
    expect(problems).toEqual([]);
  });
});

// ---------- against the real service ----------

const DAY = 86_400_000;
// Three cities (莆田 for result-overdue) and the two Zhejiang counties: a county's agencies name no city the region
// variable could read.
const WORLD = { seed: 11, enterprisesPerRegion: 40, regions: ['371400', '370600', '350300', '331125', '330203'] };
const BATCH = 2_000;
/** A grid of ~1,000 points over 30 days: what Grafana sends as the interval for a wide panel. */
const INTERVAL_MS = 3_600_000;

let service: TestService;
let redis: Redis;
let evaluations: Queue;
const staff: StaffRound[] = [];

const send = async (method: 'PUT' | 'POST', path: string, body: unknown[]) => {
  const res = method === 'PUT' ? await put(`${service.url}${path}`, body) : await post(`${service.url}${path}`, body);
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body).slice(0, 300)}`).toBe(method === 'PUT' ? 200 : 202);
};
const alertsOf = async (query: string): Promise<Alert[]> => (await get(`${service.url}/v1/alerts?${query}`)).body.items;

/** A month of demo history sent through the API as a platform would, then people at work on alerts and tickets. */
/** Loads the demo month and its people's work; gives the earliest event time (plans are filed ahead of the month). */
async function loadDemo(): Promise<Date> {
  const world = createWorld(WORLD);
  await send('PUT', '/v1/agencies', world.agencies);
  for (let i = 0; i < world.enterprises.length; i += BATCH) await send('PUT', '/v1/enterprises', world.enterprises.slice(i, i + BATCH));
  const now = Date.now();
  // A small world with a high violation rate still breaks every rule within the month.
  const events = generateEvents(world, { seed: WORLD.seed, from: new Date(now - 30 * DAY), to: new Date(now), visitsPerDay: 16, violationRate: 0.3, idPrefix: 'dash' });
  for (let i = 0; i < events.length; i += BATCH) await send('POST', '/v1/events', events.slice(i, i + BATCH));

  await eventually(async () => {
    const [stored] = await service.storage.query<{ n: string }>(
      'SELECT count(DISTINCT id) AS n FROM events WHERE id IN {ids:Array(String)}', { ids: events.map((e) => e.id) });
    const pending = await evaluations.getJobCounts('waiting', 'active', 'prioritized');
    return Number(stored!.n) === events.length && pending.waiting + pending.active + pending.prioritized === 0 ? true : undefined;
  }, 60_000, 'the history stored and evaluated');
  const rules = ((await get(`${service.url}/v1/rules`)).body.rules as { id: string }[]).map((r) => r.id);
  for (const rule of rules) await eventually(async () => ((await alertsOf(`rule=${rule}&limit=1`)).length > 0 ? true : undefined), 10_000, `a ${rule} alert`);

  // One round acknowledges and claims; resolving (false positives among them) and handing on come in later rounds.
  const random = createRandom(WORLD.seed);
  const happened = (what: keyof StaffRound) => staff.some((round) => round[what] > 0);
  const needed = ['falsePositives', 'assigned', 'ticketsResolved'] as const;
  while (staff.length < 8 && !needed.every(happened)) staff.push(await staffRound({ url: service.url, token: TEST_TOKEN }, random));
  // Tickets nobody claimed in time raise hotline-sla alerts (accept SLA of 12 s, around the clock).
  await eventually(async () => ((await alertsOf('rule=hotline-sla&limit=1')).length > 0 ? true : undefined), 30_000, 'a hotline-sla alert');
  return new Date(Math.min(...events.map((e) => Date.parse(e.occurred_at))));
}

/** A DateTime as the engine prints it in JSON ('2026-11-20 00:00:00'). */
const isTime = (value: unknown) => typeof value === 'string' && !Number.isNaN(Date.parse(`${value.replace(' ', 'T')}Z`));

/** Something to show: a row with a value that is not null, zero, NaN or empty. */
const hasValues = (rows: Record<string, unknown>[]) =>
  rows.some((row) => Object.values(row).some((v) => v !== null && v !== '' && v !== 0 && v !== '0' && !Number.isNaN(v) && v !== 'nan'));

async function runAll(values: Record<string, VariableValue>, range: QueryRange) {
  const outcomes: { where: string; rows: Record<string, unknown>[]; error?: string; timeseries: boolean }[] = [];
  for (const { where, sql, board, timeseries } of allClickHouseQueries()) {
    const expanded = expandClickHouse(sql, board.templating.list, values, range);
    try {
      outcomes.push({ where, rows: await service.storage.query<Record<string, unknown>>(expanded), timeseries });
    } catch (err) {
      outcomes.push({ where, rows: [], error: `${(err as Error).message.slice(0, 300)}\n${expanded}`, timeseries });
    }
  }
  return outcomes;
}

/** The options a variable query offers, in order (its first column is the value, as the plugin reads it). */
async function optionsOf(board: DashboardModel, name: string, values: Record<string, VariableValue>, range: QueryRange): Promise<string[]> {
  const variable = board.templating.list.find((v) => v.name === name)!;
  const rows = await service.storage.query<Record<string, unknown>>(expandClickHouse(variableSql(variable)!, board.templating.list, values, range));
  expect(rows.length, `options of ${name}`).toBeGreaterThan(0);
  return rows.map((row) => String(Object.values(row)[0]));
}

describe('queries on the real schema, over demo data', () => {
  let range: QueryRange;

  beforeAll(async () => {
    service = await startTestService({ RULES_WATCH: 'false', HOTLINE_ACCEPT_SLA_MINUTES: '0.2', HOTLINE_ALWAYS_WORKING: 'true' });
    redis = new Redis(service.redisUrl);
    evaluations = new Queue(QUEUES.evaluate.name, { connection: redis, prefix: bullPrefix(service.config.REDIS_PREFIX) });
    // The boards' range is the demo's whole span: an alert first seen on a plan filed before the month is in the
    // data (on 2026-12-07 the only false positive the demo staff marked was such an alert, and a range of the
    // last 30 days left the false-positive share empty).
    const from = await loadDemo();
    range = { from, to: new Date(), intervalMs: INTERVAL_MS };
  }, 150_000);

  afterAll(async () => {
    await evaluations?.close();
    redis?.disconnect();
    await service?.dispose();
  });

  it('has people at work: acknowledged, false-positive, handed-on and resolved items', () => {
    const sum = (key: keyof StaffRound) => staff.reduce((n, r) => n + r[key], 0);
    expect(sum('acknowledged')).toBeGreaterThan(0);
    expect(sum('falsePositives')).toBeGreaterThan(0);
    expect(sum('assigned')).toBeGreaterThan(0);
    expect(sum('ticketsResolved')).toBeGreaterThan(0);
  });

  it('every ClickHouse query runs with All and shows data; time series have a time column', async () => {
    const outcomes = await runAll({ region: ALL, agency: ALL }, range);
    expect(outcomes.length).toBeGreaterThan(40);
    expect(outcomes.filter((o) => o.error).map((o) => `${o.where}: ${o.error}`)).toEqual([]);
    expect(outcomes.filter((o) => !hasValues(o.rows)).map((o) => o.where)).toEqual([]);
    const untimed = outcomes.filter((o) => o.timeseries && !o.rows.every((r) => isTime(r.time)));
    expect(untimed.map((o) => o.where)).toEqual([]);
  });

  it('offers every city of the data as a region, the counties\' cities included, each with its name and companies', async () => {
    for (const { file, board } of clickhouseBoards) {
      const variable = board.templating.list.find((v) => v.name === 'region')!;
      const rows = await service.storage.query<{ __value: string; __text: string }>(
        expandClickHouse(variableSql(variable)!, board.templating.list, { region: ALL, agency: ALL }, range));
      expect(rows.map((r) => `${r.__value}: ${r.__text}`), file).toEqual([
        '3302: 3302 宁波市（40 家企业）', '3311: 3311 丽水市（40 家企业）', '3503: 3503 莆田市（40 家企业）', '3706: 3706 烟台市（40 家企业）',
        '3714: 3714 德州市（40 家企业）',
      ]);
    }
  });

  it('every ClickHouse query runs with a region and agency chosen from the variables', async () => {
    const [justice] = clickhouseBoards.filter(({ board }) => board.uid === 'qingjian-justice');
    // 丽水, whose county 云和 holds four rules; 宁波 (first in the list) holds only no-plan, in 海曙, too little for most panels.
    const region = '3311';
    expect(await optionsOf(justice!.board, 'region', { region: ALL, agency: ALL }, range)).toContain(region);
    const agencies = await optionsOf(justice!.board, 'agency', { region, agency: ALL }, range);
    expect(agencies.every((a) => a.startsWith(region))).toBe(true);
    // The busiest of them: the demo's month moves with the clock, and a quiet agency would leave most panels empty.
    const busiest = await service.storage.query<{ agency_id: string }>(
      "SELECT agency_id FROM alerts FINAL WHERE startsWith(region, {region:String}) GROUP BY agency_id ORDER BY count() DESC, agency_id", { region });
    const agency = busiest.map((r) => r.agency_id).find((a) => agencies.includes(a));
    const outcomes = await runAll({ region, agency: agency! }, range);
    expect(outcomes.filter((o) => o.error).map((o) => `${o.where}: ${o.error}`)).toEqual([]);
    // The filters narrow, they do not empty the boards: one agency of one city still has most panels filled.
    expect(outcomes.filter((o) => hasValues(o.rows)).length).toBeGreaterThan(outcomes.length / 2);
  });

  it('every ClickHouse query runs with values that carry quotes (:sqlstring escapes them)', async () => {
    const outcomes = await runAll({ region: "37' OR '1' = '1", agency: 'x\'); DROP TABLE "alerts"; --' }, range);
    expect(outcomes.filter((o) => o.error).map((o) => `${o.where}: ${o.error}`)).toEqual([]);
    expect((await alertsOf('limit=1')).length).toBe(1);
  });
});
