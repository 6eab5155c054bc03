import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkin, creditCode, MID_MONTH_WEEK_AGO, shanghaiAt } from './support/fixtures.js';
import { auth, callAs, createToken, eventually, startTestService, TEST_TOKEN, type TestService } from './support/service.js';

/**
 * Officers on reference data (PUT /v1/officers, GET /v1/officers?q=): the name behind each id in officer_ids,
 * placed by the agency they serve and judged by its region as agencies are; and the alert list filtered by an
 * officer. Through HTTP with real tokens of 德州 (3714) and 烟台 (3706).
 */
let service: TestService;

const DEZHOU_SCJG = '371400-SCJG';
const YANTAI_SCJG = '370600-SCJG';
const YANTAI_YJGL = '370600-YJGL';
const ZHANG = { officer_id: `${YANTAI_SCJG}-001`, name: '张建国', agency_id: YANTAI_SCJG };
const LI = { officer_id: `${YANTAI_SCJG}-002`, name: '李秀英', agency_id: YANTAI_SCJG };
const WANG = { officer_id: `${DEZHOU_SCJG}-001`, name: '王建华', agency_id: DEZHOU_SCJG };

type Tokens = Record<'ingest' | 'discipline', string>;
let dezhou: Tokens;
let yantai: Tokens;

// Status and body only: the tests compare the whole answer.
const call = async (method: string, path: string, token: string, body?: unknown) => {
  const { status, body: answer } = await callAs(service.url, method, path, token, body);
  return { status, body: answer };
};
const search = async (token: string, query: string) => {
  const res = await call('GET', `/v1/officers?${query}`, token);
  expect(res.status).toBe(200);
  return res.body.items as Array<{ id: string; name: string; agency_id: string; region: string }>;
};
const ids = (items: Array<{ id: string }>) => items.map((i) => i.id);

beforeAll(async () => {
  service = await startTestService({ RULES_WATCH: 'false' });
  expect((await call('PUT', '/v1/agencies', TEST_TOKEN, [
    { agency_id: DEZHOU_SCJG, name: '德州市市场监督管理局', region: '371400', kind: 'market_regulation' },
    { agency_id: YANTAI_SCJG, name: '烟台市市场监督管理局', region: '370600', kind: 'market_regulation' },
    { agency_id: YANTAI_YJGL, name: '烟台市应急管理局', region: '370600', kind: 'emergency' },
  ])).status).toBe(200);
  const tokensOf = async (jurisdiction: string): Promise<Tokens> => ({
    ingest: (await createToken(service.url, 'ingest', { jurisdiction })).token,
    discipline: (await createToken(service.url, 'discipline', { jurisdiction })).token,
  });
  dezhou = await tokensOf('3714');
  yantai = await tokensOf('3706');
}, 60_000);

afterAll(() => service?.dispose());

describe('PUT /v1/officers', () => {
  it('stores officers; the same batch again changes nothing, a new name replaces the old', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await call('PUT', '/v1/officers', yantai.ingest, [ZHANG, { ...LI, name: '李秀' }]);
      expect(res).toEqual({ status: 200, body: { upserted: 2 } });
    }
    expect((await call('PUT', '/v1/officers', yantai.ingest, LI)).status).toBe(200);
    expect((await call('PUT', '/v1/officers', dezhou.ingest, [WANG])).status).toBe(200);
    // By name, as the engine orders text (张 U+5F20 before 李 U+674E).
    expect(await search(TEST_TOKEN, `agency=${YANTAI_SCJG}`)).toEqual([
      { id: ZHANG.officer_id, name: '张建国', agency_id: YANTAI_SCJG, region: '370600' },
      { id: LI.officer_id, name: '李秀英', agency_id: YANTAI_SCJG, region: '370600' },
    ]);
  });

  it('names every bad field, and stores nothing of the batch', async () => {
    const res = await call('PUT', '/v1/officers', yantai.ingest, [
      { ...ZHANG, name: '张建国二' },
      { officer_id: 'no spaces please', name: '赵六', agency_id: YANTAI_SCJG },
      { officer_id: `${YANTAI_SCJG}-009`, name: '  ', agency_id: YANTAI_SCJG },
      { officer_id: `${YANTAI_SCJG}-010`, agency_id: YANTAI_SCJG, rank: '科员' },
    ]);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'validation_failed' });
    const fields = res.body.errors.map((e: { index: number; field: string }) => `${e.index}:${e.field}`);
    expect(fields).toEqual(expect.arrayContaining(['1:officer_id', '2:name', '3:name', '3:rank']));
    expect(fields).not.toContain('0:name');

    const unknownAgency = await call('PUT', '/v1/officers', yantai.ingest, [ZHANG, { ...LI, agency_id: '370600-NONE' }]);
    expect(unknownAgency.status).toBe(400);
    expect(unknownAgency.body.errors).toEqual([{ index: 1, field: 'agency_id', message: expect.stringContaining('/v1/agencies') }]);
    expect((await search(TEST_TOKEN, `q=${ZHANG.officer_id}`))[0]!.name).toBe('张建国');
  });

  it("is judged by the agency's region, stored and new, as agencies are: 403 naming index and field", async () => {
    // 德州 may neither name an officer of 烟台's agency nor take 烟台's officer into its own agency.
    const foreign = await call('PUT', '/v1/officers', dezhou.ingest, [
      { officer_id: `${DEZHOU_SCJG}-005`, name: '孙立', agency_id: YANTAI_SCJG },
      { ...ZHANG, agency_id: DEZHOU_SCJG },
    ]);
    expect(foreign.status).toBe(403);
    expect(foreign.body.errors).toEqual([
      expect.objectContaining({ index: 0, field: 'agency_id', message: expect.stringContaining('jurisdiction (3714)') }),
      expect.objectContaining({ index: 1, field: 'officer_id' }),
    ]);
    expect(JSON.stringify(foreign.body)).not.toContain('370600');

    // Within one region a platform moves its officers between agencies; across regions only an admin covering both.
    expect((await call('PUT', '/v1/officers', yantai.ingest, { ...LI, agency_id: YANTAI_YJGL })).status).toBe(200);
    expect((await search(yantai.discipline, `q=${LI.officer_id}`))[0]!.agency_id).toBe(YANTAI_YJGL);
    const province = (await createToken(service.url, 'ingest', { jurisdiction: '37' })).token;
    const byPlatform = await call('PUT', '/v1/officers', province, { ...LI, agency_id: DEZHOU_SCJG });
    expect(byPlatform.status).toBe(403);
    expect(byPlatform.body.errors).toEqual([expect.objectContaining({ index: 0, field: 'agency_id', message: expect.stringContaining('admin') })]);
    const admin = (await createToken(service.url, 'admin', { jurisdiction: '37' })).token;
    expect((await call('PUT', '/v1/officers', admin, { ...LI, agency_id: DEZHOU_SCJG })).status).toBe(200);
    expect(await search(yantai.discipline, `q=${LI.officer_id}`)).toEqual([]);
    expect(ids(await search(dezhou.discipline, `q=${LI.officer_id}`))).toEqual([LI.officer_id]);
    expect((await call('PUT', '/v1/officers', admin, LI)).status).toBe(200);

    // Reading is not writing: a discipline token may search but not upsert.
    expect((await call('PUT', '/v1/officers', yantai.discipline, [ZHANG])).status).toBe(403);
  });
});

describe('GET /v1/officers', () => {
  it('finds officers by part of the name or of the number, inside the caller\'s jurisdiction only', async () => {
    // 丁 (U+4E01) sorts before 张 and 李, and her number holds 张建国's.
    const ding = { officer_id: `${ZHANG.officer_id}1`, name: '丁一', agency_id: YANTAI_SCJG };
    expect((await call('PUT', '/v1/officers', yantai.ingest, [ding])).status).toBe(200);
    expect(ids(await search(yantai.discipline, `q=${encodeURIComponent('秀英')}`))).toEqual([LI.officer_id]);
    // Part of a number, in any case; by name.
    expect(ids(await search(yantai.discipline, 'q=scjg-00'))).toEqual([ding.officer_id, ZHANG.officer_id, LI.officer_id]);
    expect(ids(await search(TEST_TOKEN, 'q=-001'))).toEqual([ding.officer_id, ZHANG.officer_id, WANG.officer_id]);
    // The exact number first: how the console names an officer.
    expect(ids(await search(TEST_TOKEN, `q=${ZHANG.officer_id}`))).toEqual([ZHANG.officer_id, ding.officer_id]);
    expect(ids(await search(TEST_TOKEN, `q=-001&agency=${DEZHOU_SCJG}`))).toEqual([WANG.officer_id]);
    expect(ids(await search(TEST_TOKEN, 'q=-001&region=3714'))).toEqual([WANG.officer_id]);

    // 德州 learns nothing of 烟台's officers, whatever it asks.
    expect(await search(dezhou.discipline, `q=${encodeURIComponent('张建国')}`)).toEqual([]);
    expect(await search(dezhou.discipline, `agency=${YANTAI_SCJG}`)).toEqual([]);
    expect(await search(dezhou.discipline, 'region=3706')).toEqual([]);
    expect(ids(await search(dezhou.discipline, ''))).toEqual([WANG.officer_id]);
  });

  it('names a bad parameter', async () => {
    const res = await call('GET', '/v1/officers?limit=0&agency=a%20b&rank=1', yantai.discipline);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['agency', 'limit', 'rank']);
  });

  it('is in the OpenAPI document with its access rules', async () => {
    const doc = (await call('GET', '/openapi.json', TEST_TOKEN)).body;
    expect(doc.paths['/v1/officers'].put['x-access']).toEqual(['reference:write']);
    expect(doc.paths['/v1/officers'].get['x-access']).toEqual(['reference:read']);
    expect(doc.components.schemas.Officer.required).toEqual(['officer_id', 'name', 'agency_id']);
    expect(doc.paths['/v1/alerts'].get.parameters.map((p: { name: string }) => p.name)).toContain('officer');
  });
});

describe('alerts by officer', () => {
  it('GET /v1/alerts?officer= lists the alerts naming that officer; the export names the officers', async () => {
    const [zhangs, lis] = [creditCode('370602', 8801), creditCode('370602', 8802)];
    expect((await call('PUT', '/v1/enterprises', yantai.ingest, [
      { enterprise_id: zhangs, name: '烟台甲公司', region: '370602', credit_grade: 'C' },
      { enterprise_id: lis, name: '烟台乙公司', region: '370602', credit_grade: 'C' },
    ])).status).toBe(200);
    // An entry scan with no plan on file is a no-plan alert in 烟台.
    const visit = (enterprise_id: string, officer: string) => checkin({
      enterprise_id, region: '370602', source: 'yantai-platform', agency_id: YANTAI_SCJG, officer_ids: [officer], occurred_at: shanghaiAt(MID_MONTH_WEEK_AGO),
    });
    expect((await call('POST', '/v1/events', yantai.ingest, [visit(zhangs, ZHANG.officer_id), visit(lis, LI.officer_id)])).status).toBe(202);
    await eventually(async () => ((await call('GET', '/v1/alerts?region=370602&rule=no-plan', yantai.discipline)).body.items.length === 2 ? true : undefined),
      20_000, 'both alerts');

    const zhangsAlerts = (await call('GET', `/v1/alerts?officer=${ZHANG.officer_id}`, yantai.discipline)).body.items as Array<{ enterprise_id: string; officer_ids: string[] }>;
    expect(zhangsAlerts.map((a) => a.enterprise_id)).toEqual([zhangs]);
    expect(zhangsAlerts[0]!.officer_ids).toEqual([ZHANG.officer_id]);
    expect((await call('GET', `/v1/alerts?officer=${LI.officer_id}`, yantai.discipline)).body.items.map((a: { enterprise_id: string }) => a.enterprise_id)).toEqual([lis]);
    expect((await call('GET', `/v1/alerts?officer=${ZHANG.officer_id}`, dezhou.discipline)).body.items).toEqual([]);
    const bad = await call('GET', '/v1/alerts?officer=a%20b', yantai.discipline);
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'officer' })]);

    const csv = await fetch(`${service.url}/v1/exports/alerts?officer=${ZHANG.officer_id}`, { headers: auth(yantai.discipline) }).then((r) => r.text());
    const [header, row, more] = csv.replace(/^\uFEFF/, '').trim().split('\r\n').map((line) => line.split(','));
    expect(more).toBeUndefined();
    expect(row![header!.indexOf('执法人员')]).toBe('张建国');
    expect(row![header!.indexOf('执法人员编号')]).toBe(ZHANG.officer_id);
  });
});
