import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkin } from './support/fixtures.js';
import {
  ALL, clickhouseQueries, dashboardShape, expandClickHouse, loadDashboardFiles, variableSql, type QueryRange,
} from './support/grafana.js';
import { get, post, startTestService, type TestService } from './support/service.js';

/**
 * Identifiers cannot inject: hostile strings go through ingest (every id field), the API's filters and every
 * Grafana board query with its macros expanded as the plugin does. Each is either refused with a 400 naming the
 * field, or accepted, and then every board query that quotes it parses (ClickHouse's own parser, EXPLAIN AST)
 * to the same tree as with a harmless value: the id stays one string literal and changes no query's meaning.
 */
const DASHBOARDS = fileURLToPath(new URL('../dashboards/', import.meta.url));
const boards = loadDashboardFiles(DASHBOARDS).flatMap(({ file, json }) => {
  const shaped = dashboardShape.safeParse(json);
  return shaped.success ? [{ file, board: shaped.data }] : [];
});
// Every query with a variable an id can reach: agency ids are what the boards' agency variable lists.
const queries = boards.flatMap(({ file, board }) => [
  ...board.templating.list.flatMap((v) => {
    const sql = variableSql(v);
    return sql ? [{ where: `${file} › variable ${v.name}`, sql, board }] : [];
  }),
  ...clickhouseQueries(file, board).map((q) => ({ where: q.where, sql: q.target.rawSql, board })),
]).filter(({ sql }) => /\$\{?agency/.test(sql));
const range: QueryRange = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-20T12:00:00Z'), intervalMs: 3_600_000 };
const MARK = 'qjmark';

const ID_FIELDS = ['id', 'source', 'agency_id', 'officer_ids', 'plan_id'] as const;
const CHARSET = /^[A-Za-z0-9._:-]{1,64}$/;

const HOSTILE = [
  'a\\', "\\'", "x') OR 1=1 --", "x\\'); DROP TABLE alerts; --", 'a"b', '$__timeFilter(at)', '${region}', '$agency',
  'a b', 'a\tb', 'a\nb', '张三', '%27', '{{agency_name}}', '*/ SELECT 1 /*', 'a;b', 'a`b', '', 'x'.repeat(65),
];
const hostile = fc.oneof(
  fc.constantFrom(...HOSTILE),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(...'Aa0._:-\\\'"$ ;`%'.split('')), minLength: 1, maxLength: 20 }),
  fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/),
);

let service: TestService;
let plainAst = new Map<string, string>();

const ast = async (sql: string) =>
  (await service.storage.query<{ explain: string }>(`EXPLAIN AST ${sql}`)).map((r) => r.explain).join('\n');
const expanded = (query: (typeof queries)[number], agency: string) =>
  expandClickHouse(query.sql, query.board.templating.list, { region: ALL, agency }, range);

beforeAll(async () => {
  service = await startTestService({ RULES_WATCH: 'false' });
  plainAst = new Map(await Promise.all(queries.map(async (q) => [q.where, await ast(expanded(q, MARK))] as const)));
}, 60_000);

afterAll(async () => {
  await service?.dispose();
});

let serial = 0;
describe('identifiers cannot inject', () => {
  it('finds board queries that quote an agency id', () => {
    expect(queries.length).toBeGreaterThan(3);
  });

  it('refuses any id outside [A-Za-z0-9._:-]{1,64} with a 400 naming the field, and no accepted id changes a query', async () => {
    await fc.assert(fc.asyncProperty(hostile, async (value) => {
      const acceptable = CHARSET.test(value);
      // One event per id field, each with the hostile value in that field only (made unique where it is the event's id).
      serial++;
      const events = ID_FIELDS.map((field) => {
        const event: Record<string, unknown> = checkin({ id: `ident-${serial}-${field}` });
        event[field] = field === 'officer_ids' ? [value] : field === 'id' && acceptable ? `${value.slice(0, 50)}.${serial}` : value;
        return event;
      });
      const ingest = await post(`${service.url}/v1/events`, events);
      if (acceptable) {
        expect(ingest.status, JSON.stringify(ingest.body)).toBe(202);
      } else {
        expect(ingest.status).toBe(400);
        for (const [index, field] of ID_FIELDS.entries()) {
          expect(ingest.body.errors.some((e: { index: number; field: string }) => e.index === index && e.field.startsWith(field)), `${field}: ${JSON.stringify(ingest.body.errors)}`).toBe(true);
        }
      }

      const list = await get(`${service.url}/v1/alerts?agency=${encodeURIComponent(value)}`);
      if (acceptable) expect(list.status).toBe(200);
      else expect(list.body.errors.map((e: { field: string }) => e.field)).toEqual(['agency']);

      // What reaches the boards is what ingest accepted: it must stay one literal in every query.
      if (!acceptable) return;
      for (const query of queries) {
        const tree = await ast(expanded(query, value));
        expect(tree, query.where).toBe(plainAst.get(query.where)!.split(`'${MARK}'`).join(`'${value}'`));
      }
    }), { numRuns: 40 });
  }, 240_000);
});
