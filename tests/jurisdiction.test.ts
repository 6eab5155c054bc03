import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHomes, createReferenceStore } from '../src/reference/index.js';
import { checkin, complaint, creditCode, MID_MONTH_WEEK_AGO, plan, shanghaiAt, uniqueId } from './support/fixtures.js';
import { callAs, createToken, eventually, startTestService, TEST_TOKEN, type TestService } from './support/service.js';

/**
 * Writes are judged by the jurisdiction of what they touch, old and new: a
 * 德州 (3714) token can neither move, forge nor pre-empt 烟台's (3706) data.
 * Every finding of the probe that showed otherwise is one test here, through
 * HTTP with real tokens of both cities.
 */
let service: TestService;

const DEZHOU = creditCode('371402', 7101);
const YANTAI = creditCode('370602', 7102);
const DEZHOU_AGENCY = '371400-SCJG';
const YANTAI_AGENCY = '370600-SCJG';

type Tokens = Record<'ingest' | 'admin' | 'discipline' | 'hotline', string>;
let dezhou: Tokens;
let yantai: Tokens;

const call = (method: string, path: string, token: string | null, body?: unknown) => callAs(service.url, method, path, token, body);

const tokensOf = async (jurisdiction: string): Promise<Tokens> => {
  const make = async (role: string) => (await createToken(service.url, role, { jurisdiction })).token;
  return { ingest: await make('ingest'), admin: await make('admin'), discipline: await make('discipline'), hotline: await make('hotline') };
};

const company = (id: string) => call('GET', `/v1/enterprises/${id}`, TEST_TOKEN);
const visitAt = (enterprise_id: string, region: string, agency_id: string, extra: Record<string, unknown> = {}) =>
  checkin({ enterprise_id, region, agency_id, officer_ids: [`${agency_id}-001`], occurred_at: shanghaiAt(MID_MONTH_WEEK_AGO), ...extra });

/** The 烟台 company's open no-plan alert, raised by 烟台's own platform. */
let yantaiAlert: string;

beforeAll(async () => {
  service = await startTestService({ RULES_WATCH: 'false' });
  expect((await call('PUT', '/v1/enterprises', TEST_TOKEN, [
    { enterprise_id: DEZHOU, name: '德州辖区企业', region: '371402', credit_grade: 'C' },
    { enterprise_id: YANTAI, name: '烟台辖区企业', region: '370602', credit_grade: 'C' },
  ])).status).toBe(200);
  expect((await call('PUT', '/v1/agencies', TEST_TOKEN, [
    { agency_id: DEZHOU_AGENCY, name: '德州市市场监督管理局', region: '371400', kind: 'market_regulation' },
    { agency_id: YANTAI_AGENCY, name: '烟台市市场监督管理局', region: '370600', kind: 'market_regulation' },
  ])).status).toBe(200);
  dezhou = await tokensOf('3714');
  yantai = await tokensOf('3706');
  expect((await call('POST', '/v1/events', yantai.ingest, [visitAt(YANTAI, '370602', YANTAI_AGENCY, { source: 'yantai-platform' })])).status).toBe(202);
  yantaiAlert = await eventually(async () =>
    (await call('GET', `/v1/alerts?enterprise=${YANTAI}&rule=no-plan`, yantai.discipline)).body.items[0]?.id as string | undefined, 20_000, '烟台 alert');
}, 60_000);

afterAll(() => service?.dispose());

describe('1. reference upserts are judged by the stored record and the new one', () => {
  it("refuses a 德州 token moving a 烟台 company or agency into 德州 (403 naming index and field); 烟台 keeps it", async () => {
    const moved = await call('PUT', '/v1/enterprises', dezhou.ingest, [
      { enterprise_id: DEZHOU, name: '德州辖区企业', region: '371402', credit_grade: 'B' },
      { enterprise_id: YANTAI, name: '已迁入德州', region: '371402', credit_grade: 'A' },
    ]);
    expect(moved.status).toBe(403);
    expect(moved.body).toMatchObject({ error: 'forbidden', errors: [{ index: 1, field: 'enterprise_id' }] });
    expect(JSON.stringify(moved.body)).not.toContain('370602');
    const agency = await call('PUT', '/v1/agencies', dezhou.ingest, { agency_id: YANTAI_AGENCY, name: '已迁入德州', region: '371400', kind: 'x' });
    expect(agency.status).toBe(403);
    expect(agency.body.errors).toEqual([expect.objectContaining({ index: 0, field: 'agency_id' })]);

    // Nothing of either batch was stored: not even the 德州 company's own new grade.
    expect((await company(YANTAI)).body).toMatchObject({ region: '370602', name: '烟台辖区企业' });
    expect((await company(DEZHOU)).body.credit_grade).toBe('C');
    expect((await call('GET', `/v1/agencies/${YANTAI_AGENCY}`, TEST_TOKEN)).body.region).toBe('370600');
    expect((await call('GET', `/v1/enterprises/${YANTAI}/timeline`, dezhou.discipline)).status).toBe(404);
    expect((await call('GET', `/v1/enterprises/${YANTAI}/timeline`, yantai.discipline)).status).toBe(200);
    expect((await call('GET', `/v1/alerts/${yantaiAlert}`, yantai.discipline)).body.region).toBe('370602');
  });

  it("refuses a new region outside the token's jurisdiction, and a move by anyone but an admin covering both regions", async () => {
    const outward = await call('PUT', '/v1/enterprises', dezhou.admin, [{ enterprise_id: DEZHOU, name: '德州辖区企业', region: '370602', credit_grade: 'C' }]);
    expect(outward.status).toBe(403);
    expect(outward.body.errors).toEqual([expect.objectContaining({ index: 0, field: 'region' })]);
    const byPlatform = await call('PUT', '/v1/enterprises', dezhou.ingest, [{ enterprise_id: DEZHOU, name: '德州辖区企业', region: '371403', credit_grade: 'C' }]);
    expect(byPlatform.status).toBe(403);
    expect(byPlatform.body.errors[0]).toMatchObject({ index: 0, field: 'region' });
    expect(byPlatform.body.errors[0].message).toContain('admin');
    expect((await company(DEZHOU)).body.region).toBe('371402');

    // 山东's admin covers both cities: it may move a company from 德州 to 烟台, which then is 烟台's.
    const mover = creditCode('371402', 7103);
    expect((await call('PUT', '/v1/enterprises', dezhou.ingest, [{ enterprise_id: mover, name: '迁出企业', region: '371402', credit_grade: 'B' }])).status).toBe(200);
    const province = (await createToken(service.url, 'admin', { jurisdiction: '37' })).token;
    expect((await call('PUT', '/v1/enterprises', province, [{ enterprise_id: mover, name: '迁出企业', region: '370602', credit_grade: 'B' }])).status).toBe(200);
    expect((await call('GET', `/v1/enterprises/${mover}`, yantai.discipline)).status).toBe(200);
    expect((await call('GET', `/v1/enterprises/${mover}`, dezhou.discipline)).status).toBe(404);
    const back = await call('POST', '/v1/events', dezhou.ingest, [visitAt(mover, '371402', DEZHOU_AGENCY)]);
    expect(back.status).toBe(403);
    expect(back.body.errors).toEqual([expect.objectContaining({ index: 0, field: 'enterprise_id' })]);
  });
});

describe('homes, as every API process sees them', () => {
  it('are judged anew by every process within a second of a move, and registered once across processes', async () => {
    const connections = [new Redis(service.redisUrl), new Redis(service.redisUrl)];
    try {
      const reference = createReferenceStore(service.storage);
      const [here, there] = connections.map((redis) => createHomes(redis, reference, service.config.REDIS_PREFIX));
      const company = creditCode('371402', 7110);
      expect((await call('PUT', '/v1/enterprises', TEST_TOKEN, [{ enterprise_id: company, name: '待迁企业', region: '371402', credit_grade: 'C' }])).status).toBe(200);
      expect((await here!.regions('enterprise', [company])).get(company)).toBe('371402');
      await there!.moved('enterprise', new Map([[company, '370602']]));
      expect((await there!.regions('enterprise', [company])).get(company)).toBe('370602');
      await eventually(async () => ((await here!.regions('enterprise', [company])).get(company) === '370602' ? true : undefined), 1_500, 'the move seen by the other process');

      const unknown = creditCode('371402', 7111);
      const [first, second] = await Promise.all([
        here!.register('enterprise', new Map([[unknown, '371402']])), there!.register('enterprise', new Map([[unknown, '370602']])),
      ]);
      expect(first.get(unknown)).toBe(second.get(unknown));
    } finally {
      for (const redis of connections) redis.disconnect();
    }
  });
});

describe('homes that only ClickHouse holds (reference data written before homes were kept in Redis, or none at all)', () => {
  it('are read once for the lookups that arrive together, each answered its own, and then mirrored into Redis', async () => {
    const redis = new Redis(service.redisUrl);
    try {
      const reference = createReferenceStore(service.storage);
      const stored = Array.from({ length: 10 }, (_, i) => creditCode('370602', 7200 + i));
      const unknown = creditCode('371402', 7299);
      // Into ClickHouse alone: no upsert route, so Redis holds none of these homes.
      await reference.upsertEnterprises(stored.map((id) => ({ enterprise_id: id, name: `只在库中的企业${id.slice(-4)}`, region: '370602', credit_grade: 'B' as const, whitelisted: false })));
      const reads: number[] = [];
      const counted = { storedRegions: (kind: 'enterprise' | 'agency', ids: readonly string[]) => (reads.push(ids.length), reference.storedRegions(kind, ids)) };
      const homes = createHomes(redis, counted, service.config.REDIS_PREFIX);

      const answers = await Promise.all([...stored, unknown].map((id) => homes.regions('enterprise', [id])));
      expect(answers.map((found, i) => found.get([...stored, unknown][i]!) ?? null)).toEqual([...stored.map(() => '370602'), null]);
      // Eleven lookups, one read (two if the engine's answers to the Redis misses straddle the 2 ms wait).
      expect(reads.length).toBeLessThanOrEqual(2);
      expect(reads.reduce((a, b) => a + b, 0)).toBe(11);

      // Mirrored: another process finds them in Redis without reading ClickHouse.
      const elsewhere = createHomes(redis, counted, service.config.REDIS_PREFIX);
      const readsBefore = reads.length;
      expect((await elsewhere.regions('enterprise', stored)).size).toBe(stored.length);
      expect(reads.length).toBe(readsBefore);
    } finally {
      redis.disconnect();
    }
  });
});

describe("2. events are judged by the home of every company and agency they name", () => {
  it("refuses a 德州 check-in, plan or complaint naming a 烟台 company or agency, whatever region the event claims", async () => {
    const cases: Array<[string, unknown, string]> = [
      ['check-in at a 烟台 company', visitAt(YANTAI, '371402', DEZHOU_AGENCY), 'enterprise_id'],
      ['check-in by a 烟台 agency', visitAt(DEZHOU, '371402', YANTAI_AGENCY), 'agency_id'],
      ['plan naming a 烟台 company', plan({ region: '371400', agency_id: DEZHOU_AGENCY, enterprise_ids: [DEZHOU, YANTAI] }), 'enterprise_ids.1'],
      ['event in a 烟台 region', visitAt(DEZHOU, '370602', DEZHOU_AGENCY), 'region'],
    ];
    for (const [what, event, field] of cases) {
      const res = await call('POST', '/v1/events', dezhou.ingest, [checkin({ enterprise_id: DEZHOU, agency_id: DEZHOU_AGENCY }), event]);
      expect(res.status, what).toBe(403);
      expect(res.body.errors, what).toEqual([expect.objectContaining({ index: 1, field })]);
    }
    const phoned = await call('POST', '/v1/events', dezhou.hotline, [complaint({ enterprise_id: YANTAI, region: '371402' })]);
    expect(phoned.status).toBe(403);
    expect(phoned.body.errors).toEqual([expect.objectContaining({ index: 0, field: 'enterprise_id' })]);
  });

  it("cannot clear 烟台's alert with a back-dated plan", async () => {
    // Filed ten days before the visit, it would count as a plan in time and clear the no-plan alert.
    const backdated = plan({
      region: '371400', agency_id: YANTAI_AGENCY, enterprise_ids: [YANTAI], window_start: MID_MONTH_WEEK_AGO, window_end: MID_MONTH_WEEK_AGO,
      occurred_at: new Date(Date.parse(shanghaiAt(MID_MONTH_WEEK_AGO)) - 10 * 86_400_000).toISOString(),
    });
    const res = await call('POST', '/v1/events', dezhou.ingest, [backdated]);
    expect(res.status).toBe(403);
    expect(res.body.errors).toEqual([
      expect.objectContaining({ index: 0, field: 'enterprise_ids.0' }), expect.objectContaining({ index: 0, field: 'agency_id' }),
    ]);
    expect((await call('GET', `/v1/alerts/${yantaiAlert}`, yantai.discipline)).body.status).toBe('open');
  });

  it('judges an unknown company by the first event naming it, and keeps it there', async () => {
    const unknown = creditCode('370602', 7104);
    expect((await call('POST', '/v1/events', dezhou.ingest, [visitAt(unknown, '371402', DEZHOU_AGENCY)])).status).toBe(202);
    const late = await call('POST', '/v1/events', yantai.ingest, [visitAt(unknown, '370602', YANTAI_AGENCY)]);
    expect(late.status).toBe(403);
    expect(late.body.errors).toEqual([expect.objectContaining({ index: 0, field: 'enterprise_id' })]);
    // Reference data decides once it exists: 烟台's admin registers its company, and 烟台's events are accepted.
    expect((await call('PUT', '/v1/enterprises', yantai.admin, [{ enterprise_id: unknown, name: '烟台新企业', region: '370602', credit_grade: 'C' }])).status).toBe(200);
    expect((await call('POST', '/v1/events', yantai.ingest, [visitAt(unknown, '370602', YANTAI_AGENCY)])).status).toBe(202);
    expect((await call('POST', '/v1/events', dezhou.ingest, [visitAt(unknown, '371402', DEZHOU_AGENCY)])).status).toBe(403);
  });
});

describe("3. event ids are scoped to their sender", () => {
  it("an id 德州 sent first neither suppresses 烟台's event with that id nor mixes into its evidence or tickets", async () => {
    const id = uniqueId('yantai-platform');
    const ahead = [
      visitAt(DEZHOU, '371402', DEZHOU_AGENCY, { id, source: 'yantai-platform' }),
      complaint({ id: `${id}-c`, source: 'yantai-platform', enterprise_id: DEZHOU, region: '371402', category: 'misconduct', text: '德州抢注的投诉' }),
    ];
    expect((await call('POST', '/v1/events', dezhou.ingest, ahead)).body).toMatchObject({ accepted: 2, duplicates: 0 });

    const company = creditCode('370602', 7105);
    expect((await call('PUT', '/v1/enterprises', yantai.admin, [{ enterprise_id: company, name: '烟台企业', region: '370602', credit_grade: 'C' }])).status).toBe(200);
    const real = [
      visitAt(company, '370602', YANTAI_AGENCY, { id, source: 'yantai-platform' }),
      complaint({ id: `${id}-c`, source: 'yantai-platform', enterprise_id: company, region: '370602', text: '烟台的真实投诉' }),
    ];
    expect((await call('POST', '/v1/events', yantai.ingest, real)).body).toMatchObject({ accepted: 2, duplicates: 0, ids: [id, `${id}-c`] });
    // Its own retry is still answered as a duplicate.
    expect((await call('POST', '/v1/events', yantai.ingest, real)).body).toMatchObject({ accepted: 0, duplicates: 2 });

    const timeline = await eventually(async () => {
      const items = (await call('GET', `/v1/enterprises/${company}/timeline`, yantai.discipline)).body.items as any[];
      return items.length === 2 ? items : undefined;
    }, 20_000, '烟台 timeline');
    expect(timeline.map((e) => e.id).sort()).toEqual([id, `${id}-c`]);
    const alert = await eventually(async () =>
      (await call('GET', `/v1/alerts?enterprise=${company}&rule=no-plan`, yantai.discipline)).body.items[0]?.id as string | undefined, 20_000, 'alert');
    const evidence = (await call('GET', `/v1/alerts/${alert}`, yantai.discipline)).body.evidence_events as any[];
    expect(evidence.map((e) => e.event.enterprise_id)).toEqual([company]);
    const ticket = await eventually(async () =>
      ((await call('GET', '/v1/hotline/tickets?limit=1000', yantai.hotline)).body.items as any[]).find((t) => t.enterprise_id === company), 20_000, '烟台 ticket');
    expect(ticket).toMatchObject({ source_id: `${id}-c`, region: '370602', description: '烟台的真实投诉' });
    // 德州 sends complaints to the discipline commission's feed (its policy map): its own complaint with that id is there,
    // with its own text, and 烟台's ticket above holds 烟台's.
    const dezhouAlert = await eventually(async () =>
      (await call('GET', `/v1/alerts?enterprise=${DEZHOU}&rule=complaint-received`, dezhou.discipline)).body.items[0]?.id as string | undefined, 20_000, '德州 complaint alert');
    const dezhouEvidence = (await call('GET', `/v1/alerts/${dezhouAlert}`, dezhou.discipline)).body.evidence_events as any[];
    expect(dezhouEvidence.map((e) => [e.event.id, e.event.enterprise_id, e.event.text])).toEqual([[`${id}-c`, DEZHOU, '德州抢注的投诉']]);
  });
});

describe('4. token creation checks the target', () => {
  it("lets a 德州 admin hand out a company token for a 德州 company only", async () => {
    const foreign = await call('POST', '/v1/tokens', dezhou.admin, { name: '烟台企业', role: 'enterprise', jurisdiction: '3714', enterprise_id: YANTAI });
    expect(foreign.status).toBe(403);
    expect(foreign.body.errors).toEqual([expect.objectContaining({ index: null, field: 'enterprise_id' })]);
    const unknown = await call('POST', '/v1/tokens', dezhou.admin, { name: '无名企业', role: 'enterprise', jurisdiction: '3714', enterprise_id: creditCode('371402', 7106) });
    expect(unknown.status).toBe(403);
    expect((await call('GET', `/v1/enterprises/${YANTAI}/timeline`, yantai.discipline)).status).toBe(200);

    const own = await call('POST', '/v1/tokens', dezhou.admin, { name: '德州企业', role: 'enterprise', jurisdiction: '3714', enterprise_id: DEZHOU });
    expect(own.status).toBe(201);
    expect((await call('GET', `/v1/enterprises/${DEZHOU}/timeline`, own.body.token)).status).toBe(200);
    expect((await call('GET', `/v1/enterprises/${YANTAI}/timeline`, own.body.token)).status).toBe(404);
  });
});

describe('5. silences end within the same bound however they are given', () => {
  it('refuses an ends_at further than 90 days, as duration_minutes does', async () => {
    const silence = (ends_at: string) => call('POST', '/v1/silences', dezhou.discipline, { matchers: { rule: 'no-plan' }, reason: '演练', ends_at });
    for (const ends_at of ['9999-12-31T23:59:59Z', new Date(Date.now() + 91 * 86_400_000).toISOString()]) {
      const res = await silence(ends_at);
      expect(res.status, ends_at).toBe(400);
      expect(res.body.errors, ends_at).toEqual([expect.objectContaining({ field: 'ends_at' })]);
    }
    expect((await silence(new Date(Date.now() + 89 * 86_400_000).toISOString())).status).toBe(201);
  });
});

describe('8. the hotline: tickets follow the company, and go only to known units inside the jurisdiction', () => {
  // 烟台 sends complaints to its 12345 line (德州 sends them to the commission's feed instead).
  it("files a complaint's ticket under the company's region, whatever region the complaint names", async () => {
    const filed = complaint({ enterprise_id: YANTAI, region: '370600', source: 'yantai-12345', text: '市级平台转来的投诉' });
    expect((await call('POST', '/v1/events', yantai.hotline, [filed])).status).toBe(202);
    const ticket = await eventually(async () =>
      ((await call('GET', '/v1/hotline/tickets?limit=1000', yantai.hotline)).body.items as any[]).find((t) => t.source_id === filed.id), 20_000, 'ticket');
    expect(ticket.region).toBe('370602');
    expect((await call('GET', '/v1/hotline/tickets?region=370602&limit=1000', yantai.hotline)).body.items.map((t: any) => t.id)).toContain(ticket.id);
  });

  it('assigns to a known agency or a division office of its own jurisdiction only, naming to.id otherwise', async () => {
    const filed = complaint({ enterprise_id: YANTAI, region: '370602', source: 'yantai-12345' });
    expect((await call('POST', '/v1/events', yantai.hotline, [filed])).status).toBe(202);
    const ticket = await eventually(async () =>
      ((await call('GET', '/v1/hotline/tickets?limit=1000', yantai.hotline)).body.items as any[]).find((t) => t.source_id === filed.id), 20_000, 'ticket');
    const act = (action: string, body: unknown) => call('POST', `/v1/hotline/tickets/${ticket.id}/${action}`, yantai.hotline, body);
    expect((await act('claim', {})).status).toBe(200);
    for (const to of [
      { kind: 'agency', id: '<b>x</b>' }, { kind: 'agency', id: DEZHOU_AGENCY }, { kind: 'agency', id: '370600-NOSUCH' },
      { kind: 'justice', id: '371400-SFJ' }, { kind: 'discipline', id: '<b>x</b>' }, { kind: 'justice', id: '370600' },
    ]) {
      const res = await act('assign', { to });
      expect(res.status, JSON.stringify(to)).toBe(400);
      expect(res.body.errors, JSON.stringify(to)).toEqual([expect.objectContaining({ field: 'to.id' })]);
    }
    expect((await act('assign', { to: { kind: 'justice', id: '370600-SFJ' } })).status).toBe(200);
    expect((await act('assign', { to: { kind: 'agency', id: YANTAI_AGENCY } })).body.assignee).toEqual({ kind: 'agency', id: YANTAI_AGENCY });
  });
});


describe("9. jurisdiction follows the company's registered region, not the region an event claims", () => {
  it('files alerts, tickets and the timeline of a 烟台 company under 烟台 although its events say 德州: no 德州 token sees them', async () => {
    const registered = creditCode('370602', 7190);
    expect((await call('PUT', '/v1/enterprises', TEST_TOKEN, [{ enterprise_id: registered, name: '登记在烟台的企业', region: '370602', credit_grade: 'C' }])).status).toBe(200);
    // A national platform files both events under 德州's code.
    const visit = visitAt(registered, '371402', YANTAI_AGENCY, { source: 'national-platform' });
    const filed = complaint({ enterprise_id: registered, region: '371402', source: 'national-12345', text: '登记地与事件地区不一致的投诉' });
    expect((await call('POST', '/v1/events', TEST_TOKEN, [visit, filed])).status).toBe(202);

    const alert = await eventually(async () =>
      (await call('GET', `/v1/alerts?enterprise=${registered}&rule=no-plan`, yantai.discipline)).body.items[0], 20_000, 'the alert under 烟台');
    expect(alert.region).toBe('370602');
    const ticket = await eventually(async () =>
      ((await call('GET', '/v1/hotline/tickets?limit=1000', yantai.hotline)).body.items as any[]).find((t) => t.source_id === filed.id), 20_000, 'the ticket under 烟台');
    expect(ticket.region).toBe('370602');

    for (const token of [dezhou.discipline, dezhou.admin]) {
      expect((await call('GET', `/v1/alerts?enterprise=${registered}&limit=1000`, token)).body.items).toEqual([]);
      expect((await call('GET', '/v1/alerts?region=371402&limit=1000', token)).body.items.map((a: any) => a.id)).not.toContain(alert.id);
      expect((await call('GET', `/v1/alerts/${alert.id}`, token)).status).toBe(404);
      expect((await call('GET', `/v1/enterprises/${registered}/timeline`, token)).status).toBe(404);
    }
    for (const token of [dezhou.hotline, dezhou.admin]) {
      expect(((await call('GET', '/v1/hotline/tickets?limit=1000', token)).body.items as any[]).map((t) => t.id)).not.toContain(ticket.id);
      expect((await call('GET', `/v1/hotline/tickets/${ticket.id}`, token)).status).toBe(404);
    }
    expect((await call('GET', `/v1/enterprises/${registered}/timeline`, yantai.discipline)).body.items.map((e: any) => e.id)).toContain(visit.id);
  });
});
