import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLEARED, type Alert } from '../src/alerts/model.js';
import { addDays, calendarDate } from '../src/calendar/index.js';
import { creditCode, plan, uniqueId } from './support/fixtures.js';
import { auth, createToken, eventually, get, post, put, startTestService, type TestService } from './support/service.js';
import { Redis } from 'ioredis';
import { createLogger } from '../src/log.js';
import { createMetrics } from '../src/metrics/index.js';
import { createHistories } from '../src/pipeline/histories.js';
import { createPlanChecker, createMattersReader } from '../src/plans/index.js';
import { readPlan } from '../src/plans/store.js';
import { Event } from '../src/ingest/schema.js';
import { readEvents } from '../src/rules/context.js';
import { eventRows, insertEvents } from '../src/storage/tables/events.js';
import { createReferenceFacts } from '../src/reference/index.js';
import { createRuleRegistry } from '../src/rules/registry.js';
import type { Storage } from '../src/storage/index.js';

/**
 * Prevention before the visit (issue 25) through the whole service: plans in
 * over HTTP, stored and evaluated by the workers on embedded ClickHouse, the
 * plan-overlap advice in the alert API, the plan check naming the merge
 * candidates, and a joint plan that replaces both clearing the advice.
 */
let service: TestService;
const today = calendarDate(Date.now());
// A window three to four weeks ahead: 烟台's 7 days' lead time is met, whatever day the test runs.
const day = (n: number) => addDays(today, n);

beforeAll(async () => {
  service = await startTestService({ STORE_BATCH_WAIT_MS: '20', RULES_WATCH: 'false' });
  const agencies = [
    ['370600-SCJG', '烟台市市场监督管理局', '370600'],
    ['370602-ZHZF', '芝罘区综合行政执法局', '370602'],
    ['370600-STHJ', '烟台市生态环境局', '370600'],
    ['371400-SCJG', '德州市市场监督管理局', '371400'],
  ];
  for (const [agency_id, name, region] of agencies) {
    expect((await put(`${service.url}/v1/agencies`, { agency_id, name, region, kind: 'market_regulation' })).status).toBe(200);
  }
});

afterAll(async () => {
  await service?.dispose();
});

let serial = 8100;
async function company(district: string): Promise<string> {
  const id = creditCode(district, serial++);
  expect((await put(`${service.url}/v1/enterprises`, { enterprise_id: id, name: `计划测试企业${serial}号`, region: district, credit_grade: 'C' })).status).toBe(200);
  return id;
}

const send = async (events: unknown[]) => {
  const res = await post(`${service.url}/v1/events`, events);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
};

async function overlapAlerts(enterprise: string): Promise<Alert[]> {
  const res = await get(`${service.url}/v1/alerts?enterprise=${enterprise}&rule=plan-overlap&limit=100`);
  expect(res.status).toBe(200);
  return res.body.items;
}

const postAs = async (token: string, path: string, body: unknown) => {
  const res = await fetch(`${service.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth(token) }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json().catch(() => null) };
};

const yantaiPlan = (enterprise: string, overrides: Record<string, unknown>) => plan({
  region: '370602', source: 'yantai-platform', enterprise_ids: [enterprise], occurred_at: new Date().toISOString(), status: 'approved', ...overrides,
});

describe('plan-overlap and the plan check', () => {
  it('two overlapping plans raise the advice, the check names the merge candidate, and a joint plan replacing both clears it', async () => {
    const enterprise = await company('370602');
    const p1 = uniqueId('p1');
    const p2 = uniqueId('p2');
    await send([
      yantaiPlan(enterprise, { id: p1, agency_id: '370600-SCJG', window_start: day(21), window_end: day(24), matters: ['食品生产安全'] }),
      yantaiPlan(enterprise, { id: p2, agency_id: '370602-ZHZF', window_start: day(23), window_end: day(28), matters: ['燃气经营安全'] }),
    ]);

    const [advice] = await eventually(async () => {
      const open = (await overlapAlerts(enterprise)).filter((a) => a.status === 'open');
      return open.length > 0 ? open : undefined;
    }, 30_000, 'plan-overlap alert');
    expect(advice).toMatchObject({ severity: 'advice', channels: ['feed'], figures: { plan_a: p1, plan_b: p2, overlap_start: day(23), overlap_end: day(24), overlap_days: 2 } });
    expect(advice!.message.zh).toContain(`烟台市市场监督管理局的检查计划${p1}与芝罘区综合行政执法局的检查计划${p2}`);
    expect(advice!.evidence.map((e) => e.event_id).sort()).toEqual([p1, p2].sort());

    // The check of the filed p2 names p1: its agency, its level (a city agency beside a county one) and its matters.
    const checked = await post(`${service.url}/v1/plans/check`, { plan_id: p2 });
    expect(checked.status, JSON.stringify(checked.body)).toBe(200);
    const [mine] = checked.body.companies;
    expect(mine.merge_candidates).toEqual([expect.objectContaining({
      plan_id: p1, agency_id: '370600-SCJG', agency_name: '烟台市市场监督管理局', level: 'city', same_agency: false, matters: ['食品生产安全'], overlap_days: 2,
    })]);
    expect(mine.findings).toContainEqual(expect.objectContaining({ check: 'merge', rule_id: 'plan-overlap', level: 'advise', source_id: 'plan-overlap' }));
    // The answer cites each clause once, in `sources`.
    expect(checked.body.sources['plan-overlap']).toEqual({
      document: 'yantai-joint-inspection-platform.txt', clause: '通过涉企检查计划对比匹配,合并同一段时间内针对同一对象的多次检查',
    });
    expect(mine.suggestions).toContainEqual(expect.objectContaining({ action: 'merge', label: '合并检查', plan_ids: [p1], reason_id: 'merge' }));
    expect(checked.body.reasons.merge).toEqual({ zh: '与同期计划合并为一次联合检查', en: expect.any(String) });
    expect(mine.verdict).toBe('advise');

    // Each filed plan's check is stored; p1 was checked again when p2 came, so it names p2.
    const stored = await eventually(async () => {
      const res = await get(`${service.url}/v1/plans/${p1}/check`);
      const names = res.body?.companies?.[0]?.merge_candidates?.map((m: { plan_id: string }) => m.plan_id) ?? [];
      return names.includes(p2) ? res.body : undefined;
    }, 30_000, 'stored check of p1 naming p2');
    expect(stored.companies[0]).toMatchObject({ enterprise_id: enterprise, verdict: 'advise', window_start: day(21) });

    // The joint plan replaces both: the advice clears itself, and the coordination view lists the joint plan only.
    const joint = uniqueId('joint');
    await send([yantaiPlan(enterprise, {
      id: joint, agency_id: '370600-SCJG', joint_agency_ids: ['370602-ZHZF'], replaces: [p1, p2], window_start: day(23), window_end: day(24),
    })]);
    const cleared = await eventually(async () => {
      const all = await overlapAlerts(enterprise);
      return all.length === 1 && all[0]!.resolution === CLEARED ? all : undefined;
    }, 30_000, 'plan-overlap cleared by the joint plan');
    expect(cleared[0]!.id).toBe(advice!.id);
    const upcoming = await eventually(async () => {
      const res = await get(`${service.url}/v1/plans/upcoming?region=370602`);
      const mineOnly = res.body.items.filter((i: { enterprise_id: string }) => i.enterprise_id === enterprise);
      // Checks run one by one (and rest while evaluations run): the merged plans leave the list one after the other.
      return mineOnly.length === 1 && mineOnly[0].plan_id === joint ? mineOnly : undefined;
    }, 30_000, 'upcoming plans without the merged ones');
    expect(upcoming[0]).toMatchObject({ plan_id: joint, verdict: 'ok', merge_candidates: [] });
  });

  it('a plan filed later is named in the stored check of the plan it overlaps, which was checked before it came', async () => {
    const enterprise = await company('370602');
    const first = uniqueId('first');
    const later = uniqueId('later');
    const storedCandidates = async (planId: string) => {
      const res = await get(`${service.url}/v1/plans/${planId}/check`);
      return res.status === 200 ? (res.body.companies?.[0]?.merge_candidates ?? []).map((m: { plan_id: string }) => m.plan_id) as string[] : undefined;
    };
    await send([yantaiPlan(enterprise, { id: first, agency_id: '370600-SCJG', window_start: day(31), window_end: day(33) })]);
    expect(await eventually(() => storedCandidates(first), 30_000, 'the first plan checked alone')).toEqual([]);

    await send([yantaiPlan(enterprise, { id: later, agency_id: '370602-ZHZF', window_start: day(33), window_end: day(35) })]);
    await eventually(async () => ((await storedCandidates(first))?.includes(later) ? true : undefined), 30_000, 'the first plan checked again, naming the later one');
    expect(await storedCandidates(later)).toEqual([first]);
  });

  it("the worker's check reads companies, events and agencies from the evaluation memory, remembers matters, and finds what a read of ClickHouse finds", async () => {
    const enterprise = await company('370602');
    const id = uniqueId('remembered');
    await send([
      yantaiPlan(enterprise, { id, agency_id: '370600-SCJG', window_start: day(31), window_end: day(33), matters: ['消防安全检查'] }),
      yantaiPlan(enterprise, { id: uniqueId('neighbour'), agency_id: '370602-ZHZF', window_start: day(32), window_end: day(34) }),
    ]);
    await eventually(async () => ((await get(`${service.url}/v1/plans/${id}/check`)).body?.companies?.[0]?.merge_candidates?.length === 1 ? true : undefined),
      30_000, 'the plan checked by the worker');

    // The worker's kind of memory, in a process of its own, over the same engine and Redis; its reads are counted.
    const queries: string[] = [];
    const counting: Storage = { ...service.storage, query: (sql, params) => (queries.push(sql), service.storage.query(sql, params)) };
    const redis = new Redis(service.redisUrl);
    const histories = createHistories({
      storage: counting, redis, prefix: service.config.REDIS_PREFIX, maxEvents: 1_000, metrics: createMetrics({ role: 'worker', version: 'test' }),
    });
    const facts = createReferenceFacts(redis, counting, service.config.REDIS_PREFIX);
    const registry = await createRuleRegistry(service.config.RULES_DIR, createLogger('silent'));
    const fromStorage = createPlanChecker(service.storage, registry);
    const memory = { companies: facts.companies, events: histories.read, agencies: facts.agencies, matters: createMattersReader(counting) };
    const fromMemory = createPlanChecker(service.storage, registry, memory);
    const filed = (await fromStorage.filed(id))!;
    const now = Date.now();
    const expected = await fromStorage.check(filed, now);
    expect(expected.companies[0]!.merge_candidates).toHaveLength(1);
    expect(await fromMemory.check(filed, now)).toEqual(expected);
    expect(queries.length).toBeGreaterThan(0);
    queries.length = 0;
    expect(await fromMemory.check(filed, now)).toEqual(expected);
    expect(queries).toEqual([]);

    // The plan itself, as the worker reads it (among its companies, from memory), as any reader finds it, and as a
    // read of those companies' plans in ClickHouse finds it; merged away once a standing joint plan replaces it.
    const asRead = () => Promise.all([readPlan(service.storage, id, [enterprise], memory), readPlan(service.storage, id, [enterprise])]);
    expect(await asRead()).toEqual([filed, filed]);
    expect(filed).toMatchObject({ plan_id: id, enterprise_ids: [enterprise], status: 'approved', matters: ['消防安全检查'] });
    await send([yantaiPlan(enterprise, {
      id: uniqueId('joint'), agency_id: '370600-SCJG', joint_agency_ids: ['370602-ZHZF'], replaces: [id], window_start: day(31), window_end: day(33),
    })]);
    const merged = await eventually(async () => {
      const anywhere = await readPlan(service.storage, id);
      return anywhere?.status === 'merged' ? anywhere : undefined;
    }, 30_000, 'the joint plan stored');
    expect(await asRead()).toEqual([merged, merged]);
    redis.disconnect();
  });

  it('takes a plan version\'s matters from its row; for a row stored before rows held them, reads its JSON once per stored object', async () => {
    const enterprise = await company('370602');
    const queries: string[] = [];
    const counting: Storage = { ...service.storage, query: (sql, params) => (queries.push(sql), service.storage.query(sql, params)) };
    const matters = createMattersReader(counting);
    // One event time for every version: a resend of an id is the same (company, time, id), which the table folds.
    const occurred_at = new Date().toISOString();
    const version = (id: string, m: string[], at = occurred_at) => Event.parse(yantaiPlan(enterprise, {
      id, agency_id: '370600-SCJG', window_start: day(40), window_end: day(41), matters: m, occurred_at: at,
    }));
    // The rows ClickHouse holds for an id, as evaluation reads them (in event-time order), and the latest of them.
    const rowsOf = async (id: string) => (await readEvents(service.storage, [enterprise], new Map([['plan', { from: 0, to: Date.now() + 400 * 86_400_000 }]])))
      .get(enterprise)!.filter((e) => e.id === id);
    const stored = async (id: string) => (await rowsOf(id)).at(-1)!;

    await insertEvents(service.storage, eventRows(version('with-matters', ['安全生产']), '2026-11-01T00:00:00Z'));
    expect(await matters([await stored('with-matters')])).toEqual(new Map([['with-matters', ['安全生产']]]));
    expect(queries).toEqual([]);

    // As a version stored before plans' rows held matters: the row reads [], the JSON has them.
    const asBefore = (event: Event, receivedAt: string) => eventRows(event, receivedAt).map((row) => ({ ...row, matters: [] }));
    await insertEvents(service.storage, asBefore(version('older', ['食品安全']), '2026-11-01T00:00:00Z'));
    const first = await stored('older');
    expect(first.matters).toEqual([]);
    expect(await matters([first])).toEqual(new Map([['older', ['食品安全']]]));
    expect(await matters([first])).toEqual(new Map([['older', ['食品安全']]]));
    expect(queries).toHaveLength(1);

    // The same id stored again with other matters (a sender's resend after its id was forgotten): the table keeps the
    // later row, memory a new object for it, and its matters are read again.
    await insertEvents(service.storage, asBefore(version('older', ['消防安全']), '2026-11-02T00:00:00Z'));
    expect(await matters([await stored('older')])).toEqual(new Map([['older', ['消防安全']]]));
    expect(queries).toHaveLength(2);

    // Stored again at another event time, the id has two rows; the latest in event time is the version read.
    const later = new Date(Date.parse(occurred_at) + 60_000).toISOString();
    const earlier = new Date(Date.parse(occurred_at) - 60_000).toISOString();
    await insertEvents(service.storage, asBefore(version('twice', ['安全生产'], later), '2026-11-01T00:00:00Z'));
    await insertEvents(service.storage, asBefore(version('twice', ['食品安全'], earlier), '2026-11-02T00:00:00Z'));
    expect(await rowsOf('twice')).toHaveLength(2);
    expect(await matters([await stored('twice')])).toEqual(new Map([['twice', ['安全生产']]]));
  });

  it('a cancelled plan clears the advice', async () => {
    const enterprise = await company('370602');
    const p1 = uniqueId('p1');
    const p2 = uniqueId('p2');
    await send([
      yantaiPlan(enterprise, { id: p1, agency_id: '370600-SCJG', window_start: day(21), window_end: day(21) }),
      yantaiPlan(enterprise, { id: p2, agency_id: '370600-SCJG', window_start: day(21), window_end: day(22) }),
    ]);
    await eventually(async () => ((await overlapAlerts(enterprise)).some((a) => a.status === 'open') ? true : undefined), 30_000, 'advice');
    await send([yantaiPlan(enterprise, { id: uniqueId('cancel'), plan_id: p2, agency_id: '370600-SCJG', status: 'cancelled', window_start: day(21), window_end: day(22) })]);
    await eventually(async () => ((await overlapAlerts(enterprise)).every((a) => a.resolution === CLEARED) ? true : undefined), 30_000, 'advice cleared');
  });

  it('a draft is checked without being stored, under the rules of the company\'s region', async () => {
    const enterprise = await company('370602');
    const draft = {
      region: '370602', agency_id: '370600-STHJ', enterprise_ids: [enterprise], window_start: day(2), window_end: day(9), mode: 'onsite',
    };
    const res = await post(`${service.url}/v1/plans/check`, { plan: draft });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [mine] = res.body.companies;
    // 烟台 counts 7 calendar days ahead: filed today, the first five days of the window are too soon, the rest in time.
    const lead = mine.findings.find((f: { check: string }) => f.check === 'lead_time');
    expect(lead).toMatchObject({ rule_id: 'no-plan', level: 'advise', figures: { lead: 7, unit: 'days', late_days: 5, first_day_in_time: day(7) } });
    expect(res.body.sources[lead.source_id]).toMatchObject({ document: 'yantai-joint-inspection-platform.txt' });
    // The nearest window of the same length that breaches nothing starts on the first day in time.
    expect(mine.suggestions).toContainEqual(expect.objectContaining({ action: 'change', label: '变更检查', window: { start: day(7), end: day(14) } }));
    expect(res.body.verdict).toBe('advise');
    // Nothing stored: no check, no plan, no alert.
    expect((await get(`${service.url}/v1/plans/upcoming?region=370602`)).body.items.filter((i: { enterprise_id: string }) => i.enterprise_id === enterprise)).toEqual([]);
  });

  it('bad input names the field; an ingest token checks plans of its own region only', async () => {
    const bad = await post(`${service.url}/v1/plans/check`, { plan: { region: '370602', agency_id: '370600-SCJG', enterprise_ids: [], window_start: '2026-13-01', window_end: day(1), mode: 'onsite' } });
    expect(bad.status).toBe(400);
    const fields = bad.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['plan.enterprise_ids', 'plan.window_start']));

    const yantai = await company('370602');
    const filed = uniqueId('own');
    await send([yantaiPlan(yantai, { id: filed, agency_id: '370600-SCJG', window_start: day(21), window_end: day(22) })]);
    await eventually(async () => ((await get(`${service.url}/v1/plans/${filed}/check`)).status === 200 ? true : undefined), 30_000, 'stored check');

    const own = (await createToken(service.url, 'ingest', { jurisdiction: '3706' })).token;
    const dezhou = (await createToken(service.url, 'ingest', { jurisdiction: '3714' })).token;
    const draft = { region: '370602', agency_id: '370600-SCJG', enterprise_ids: [yantai], window_start: day(21), window_end: day(22), mode: 'onsite' };
    expect((await postAs(own, '/v1/plans/check', { plan: draft })).status).toBe(200);
    expect((await postAs(own, '/v1/plans/check', { plan_id: filed })).status).toBe(200);
    const refused = await postAs(dezhou, '/v1/plans/check', { plan: { ...draft, region: '371402', agency_id: '371400-SCJG' } });
    expect(refused.status).toBe(403);
    expect(refused.body.errors).toEqual([expect.objectContaining({ field: 'plan.enterprise_ids.0' })]);
    expect((await postAs(dezhou, '/v1/plans/check', { plan_id: filed })).status).toBe(404);
    // An ingest token reads no stored checks and records no suggestions.
    expect((await get(`${service.url}/v1/plans/upcoming`, own)).status).toBe(403);
  });

  it('a suggestion to the agencies is stored and audited with the person and the role of the token', async () => {
    const enterprise = await company('370602');
    const filed = uniqueId('sugg');
    await send([yantaiPlan(enterprise, { id: filed, agency_id: '370600-SCJG', window_start: day(21), window_end: day(22) })]);
    await eventually(async () => ((await get(`${service.url}/v1/plans/${filed}/check`)).status === 200 ? true : undefined), 30_000, 'stored check');
    const office = (await createToken(service.url, 'coordination', { name: '王统筹', unit: '烟台市司法局', jurisdiction: '3706' })).token;
    const missing = await postAs(office, `/v1/plans/${filed}/suggestions`, { actor: '王统筹', action: 'change' });
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([expect.objectContaining({ field: 'window_start' })]);
    const body = { actor: '王统筹', action: 'online', note: '资料核查即可，改为线上检查' };
    const made = await postAs(office, `/v1/plans/${filed}/suggestions`, body);
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body).toMatchObject({ plan_id: filed, action: 'online', actor: '王统筹', actor_role: 'coordination', agency_id: '370600-SCJG' });
    // A retry is the same suggestion, not a second one.
    expect((await postAs(office, `/v1/plans/${filed}/suggestions`, body)).body.id).toBe(made.body.id);
    const check = await get(`${service.url}/v1/plans/${filed}/check`, office);
    expect(check.body.suggestions).toEqual([expect.objectContaining({ id: made.body.id, action: 'online' })]);
    const audit = await eventually(async () => {
      const res = await get(`${service.url}/v1/audit?action=plan.suggest&target_id=${filed}`);
      return res.body.items.length === 1 ? res.body.items : undefined;
    }, 10_000, 'audit entry');
    expect(audit[0]).toMatchObject({
      actor: '王统筹', actor_role: 'coordination', actor_unit: '烟台市司法局', actor_shared: false, target_kind: 'plan', target_id: filed, region: '370602',
      after: { action: 'online', token_name: '王统筹' }, note: '资料核查即可，改为线上检查',
    });
    // Nobody suggests in another's name.
    const other = await postAs(office, `/v1/plans/${filed}/suggestions`, { ...body, actor: '李四' });
    expect(other.status).toBe(400);
    expect(other.body.errors).toEqual([expect.objectContaining({ field: 'actor' })]);
  });
});
