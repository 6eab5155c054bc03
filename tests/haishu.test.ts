import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLEARED, type Alert } from '../src/alerts/model.js';
import { checkin, creditCode, inspection, plan } from './support/fixtures.js';
import { createToken, eventually, get, post, put, startTestService, type TestService } from './support/service.js';

/**
 * 海曙 (issue 26) through the whole service: the company status in reference data, the three rules it
 * adopted, and the weekly review of plans. HTTP in, the store and evaluate workers, embedded ClickHouse.
 * The week is ISO 2025-W33, Monday 11 to Sunday 17 August 2025.
 */
let service: TestService;
const REGION = '330203';
const SCJG = '330203-SCJG';
const XF = '330203-XF';

beforeAll(async () => {
  service = await startTestService({ STORE_BATCH_WAIT_MS: '20', RULES_WATCH: 'false' });
  for (const [agency_id, name] of [[SCJG, '宁波市海曙区市场监督管理局'], [XF, '宁波市海曙区消防救援大队']]) {
    expect((await put(`${service.url}/v1/agencies`, { agency_id, name, region: REGION, kind: 'market_regulation' })).status).toBe(200);
  }
});

afterAll(async () => {
  await service?.dispose();
});

let serial = 2600;
async function company(extra: Record<string, unknown> = {}): Promise<string> {
  const id = creditCode(REGION, serial++);
  const res = await put(`${service.url}/v1/enterprises`, { enterprise_id: id, name: `海曙测试企业${serial}号`, region: REGION, credit_grade: 'C', ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return id;
}

const send = async (events: unknown[]) => {
  const res = await post(`${service.url}/v1/events`, events);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body;
};

async function alertsOf(enterprise: string, rule: string): Promise<Alert[]> {
  const res = await get(`${service.url}/v1/alerts?enterprise=${enterprise}&rule=${rule}&limit=1000`);
  expect(res.status).toBe(200);
  return res.body.items;
}

const waitFor = <T>(what: string, check: () => Promise<T | undefined>) => eventually(check, 30_000, what);
const some = (enterprise: string, rule: string, ok: (a: Alert) => boolean = () => true) =>
  waitFor(`${rule} for ${enterprise}`, async () => (await alertsOf(enterprise, rule)).find(ok));

const haishu = { region: REGION, source: 'haishu-app', agency_id: SCJG, officer_ids: ['330203-SCJG-001', '330203-SCJG-002'] };
const planned = { region: REGION, source: 'haishu-plans', agency_id: SCJG };

describe('company status in reference data', () => {
  it('refuses a bad status or date, naming the field', async () => {
    const id = creditCode(REGION, 2599);
    const base = { enterprise_id: id, name: '海曙校验企业', region: REGION, credit_grade: 'C' };
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ status: 'deregistered' }, 'deregistered_on', /required when status is deregistered/],
      [{ status: 'active', deregistered_on: '2025-08-12' }, 'deregistered_on', /must not be sent when status is active/],
      [{ deregistered_on: '2025-08-12' }, 'deregistered_on', /must not be sent when status is active/],
      [{ status: 'deregistered', deregistered_on: '2999-01-01' }, 'deregistered_on', /must not lie in the future/],
      [{ status: 'deregistered', deregistered_on: '12/08/2025' }, 'deregistered_on', /YYYY-MM-DD/],
      [{ status: 'closed' }, 'status', /active|deregistered/],
    ];
    for (const [extra, field, message] of cases) {
      const res = await put(`${service.url}/v1/enterprises`, { ...base, ...extra });
      expect(res.status, JSON.stringify(extra)).toBe(400);
      expect(res.body.errors, JSON.stringify(extra)).toEqual(expect.arrayContaining([expect.objectContaining({ field, message: expect.stringMatching(message) })]));
    }
    expect((await get(`${service.url}/v1/enterprises/${id}`)).status).toBe(404);
  });

  it('shows the status and its date on the company and in its timeline; a company sent without one is active', async () => {
    const gone = await company({ status: 'deregistered', deregistered_on: '2025-08-12' });
    const active = await company();
    expect((await get(`${service.url}/v1/enterprises/${gone}`)).body).toMatchObject({ status: 'deregistered', deregistered_on: '2025-08-12' });
    expect((await get(`${service.url}/v1/enterprises/${active}`)).body.status).toBe('active');
    expect((await get(`${service.url}/v1/enterprises/${active}`)).body).not.toHaveProperty('deregistered_on');
    const timeline = await get(`${service.url}/v1/enterprises/${gone}/timeline`);
    expect(timeline.body).toMatchObject({ enterprise_id: gone, status: 'deregistered', deregistered_on: '2025-08-12', items: [] });
    expect((await get(`${service.url}/v1/enterprises/${active}/timeline`)).body.status).toBe('active');
  });
});

describe('deregistered-company (已注銷)', () => {
  it('fires when the status arrives after the record, retracts when it is corrected, and a repeated status changes nothing', async () => {
    const id = await company();
    const visit = checkin({ ...haishu, enterprise_id: id, occurred_at: '2025-08-19T09:00:00+08:00' });
    await send([visit]);
    // Without a plan the visit raises no-plan (海曙 無計劃不檢查): once it is there, the visit has been evaluated.
    await some(id, 'no-plan');
    expect(await alertsOf(id, 'deregistered-company')).toEqual([]);

    const deregistered = { enterprise_id: id, name: '海曙测试注销企业', region: REGION, credit_grade: 'C', status: 'deregistered', deregistered_on: '2025-08-12' };
    expect((await put(`${service.url}/v1/enterprises`, deregistered)).status).toBe(200);
    const alert = await some(id, 'deregistered-company');
    expect(alert).toMatchObject({ status: 'open', agency_id: SCJG, officer_ids: ['330203-SCJG-001', '330203-SCJG-002'], figures: { since: '2025-08-12', day: '2025-08-19' } });
    expect(alert.evidence.map((e) => e.event_id)).toEqual([visit.id]);
    expect(alert.message.zh).toContain('但该企业已于2025-08-12注销');

    // The same status again: nothing to decide again, nothing raised twice.
    expect((await put(`${service.url}/v1/enterprises`, deregistered)).status).toBe(200);
    const again = await alertsOf(id, 'deregistered-company');
    expect(again.map((a) => [a.id, a.status])).toEqual([[alert.id, 'open']]);

    // A corrected date after the visit retracts the alert, saying why.
    expect((await put(`${service.url}/v1/enterprises`, { ...deregistered, deregistered_on: '2025-08-20' })).status).toBe(200);
    const cleared = await some(id, 'deregistered-company', (a) => a.resolution === CLEARED);
    expect(cleared.id).toBe(alert.id);
    expect((await alertsOf(id, 'deregistered-company')).filter((a) => a.resolution !== CLEARED)).toEqual([]);
  });

  it('fires at once for a record of a company already deregistered, by the record\'s start, and not before the day', async () => {
    const id = await company({ status: 'deregistered', deregistered_on: '2025-08-12' });
    const before = inspection({ ...haishu, enterprise_id: id, started_at: '2025-08-11T23:59:00+08:00', ended_at: '2025-08-12T01:00:00+08:00', occurred_at: '2025-08-12T09:00:00+08:00' });
    const onTheDay = inspection({ ...haishu, agency_id: XF, officer_ids: ['330203-XF-001'], enterprise_id: id, started_at: '2025-08-12T00:00:00+08:00', ended_at: '2025-08-12T01:00:00+08:00', occurred_at: '2025-08-12T09:00:00+08:00' });
    await send([before, onTheDay]);
    const alert = await some(id, 'deregistered-company');
    await some(id, 'no-plan', (a) => a.agency_id === SCJG);
    expect(await alertsOf(id, 'deregistered-company')).toHaveLength(1);
    expect(alert).toMatchObject({ agency_id: XF, officer_ids: ['330203-XF-001'] });
    expect(alert.evidence.map((e) => e.event_id)).toEqual([onTheDay.id]);
  });
});

describe('joint-not-together (未同時上門)', () => {
  it('names the agency that came 61 minutes after the first, and replaying the events raises nothing twice', async () => {
    const id = await company();
    const joint = plan({ ...planned, enterprise_ids: [id], joint_agency_ids: [XF], window_start: '2025-08-11', window_end: '2025-08-15', occurred_at: '2025-08-08T10:00:00+08:00' });
    const first = checkin({ ...haishu, enterprise_id: id, occurred_at: '2025-08-12T09:00:00+08:00', plan_id: joint.id });
    const late = checkin({ ...haishu, agency_id: XF, officer_ids: ['330203-XF-001'], enterprise_id: id, occurred_at: '2025-08-12T10:01:00+08:00', plan_id: joint.id });
    const events = [joint, first, late];
    await send(events);
    const alert = await some(id, 'joint-not-together');
    expect(alert).toMatchObject({ agency_id: XF, figures: { late_minutes: 61, first_arrival: '2025-08-12 09:00', first_agency: '宁波市海曙区市场监督管理局' } });
    expect(alert.message.zh).toContain('宁波市海曙区消防救援大队2025-08-12 10:01到场');

    const replay = await send(events);
    expect(replay.duplicates).toBe(3);
    // A marker sent after the replay: once its alert is there, everything before has been evaluated.
    const marker = checkin({ ...haishu, enterprise_id: id, occurred_at: '2025-08-20T09:00:00+08:00' });
    await send([marker]);
    await some(id, 'no-plan', (a) => a.evidence.some((e) => e.event_id === marker.id));
    expect((await alertsOf(id, 'joint-not-together')).map((a) => a.id)).toEqual([alert.id]);
  });
});

describe('the weekly review (GET /v1/plans/review) and plan-not-executed', () => {
  it('lists each agency\'s plans ending in the week: carried out, not carried out, cancelled', async () => {
    const [a, b, c] = [await company(), await company(), await company()];
    const filed = '2025-08-01T10:00:00+08:00';
    const done = plan({ ...planned, enterprise_ids: [a], window_start: '2025-08-11', window_end: '2025-08-15', occurred_at: filed });
    const missed = plan({ ...planned, agency_id: XF, enterprise_ids: [b], window_start: '2025-08-13', window_end: '2025-08-14', occurred_at: filed });
    const called = plan({ ...planned, enterprise_ids: [c], window_start: '2025-08-11', window_end: '2025-08-12', occurred_at: filed });
    const calledOff = plan({ ...planned, enterprise_ids: [c], window_start: '2025-08-11', window_end: '2025-08-12', occurred_at: '2025-08-08T10:00:00+08:00', plan_id: called.id, status: 'cancelled' });
    const nextWeek = plan({ ...planned, enterprise_ids: [a], window_start: '2025-08-18', window_end: '2025-08-19', occurred_at: filed });
    // A record started on the window's last day, filed the next week, carries the plan out.
    const record = inspection({ ...haishu, enterprise_id: a, started_at: '2025-08-15T15:00:00+08:00', ended_at: '2025-08-15T16:00:00+08:00', occurred_at: '2025-08-18T09:00:00+08:00', plan_id: done.id });
    await send([done, missed, called, calledOff, nextWeek, record]);

    // plan-not-executed: the missed plan only (its window closed more than a working day ago).
    const notice = await some(b, 'plan-not-executed');
    expect(notice).toMatchObject({ severity: 'low', agency_id: XF, figures: { plan_id: missed.id, due: '2025-08-16 00:00' } });
    await some(a, 'plan-not-executed', (n) => n.figures.plan_id === nextWeek.id);
    expect((await alertsOf(a, 'plan-not-executed')).map((n) => n.figures.plan_id)).toEqual([nextWeek.id]);
    expect(await alertsOf(c, 'plan-not-executed')).toEqual([]);

    const res = await get(`${service.url}/v1/plans/review?region=${REGION}&week=2025-W33`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ region: REGION, week: '2025-W33', from: '2025-08-11', to: '2025-08-17' });
    const mine = (agency: string) => {
      const row = res.body.agencies.find((r: { agency_id: string }) => r.agency_id === agency);
      return { ...row, tasks: row.tasks.filter((t: { enterprise_id: string }) => [a, b, c].includes(t.enterprise_id)) };
    };
    const scjg = mine(SCJG);
    expect(scjg.name).toBe('宁波市海曙区市场监督管理局');
    expect(scjg.tasks.map((t: Record<string, unknown>) => [t.plan_id, t.status])).toEqual([[called.id, 'cancelled'], [done.id, 'carried_out']]);
    expect(scjg.tasks.find((t: { plan_id: string }) => t.plan_id === done.id).visit).toMatchObject({ id: record.id, agency_id: SCJG });
    expect(mine(XF).tasks.map((t: Record<string, unknown>) => [t.plan_id, t.status, t.enterprise_id])).toEqual([[missed.id, 'not_carried_out', b]]);

    // A visit that syncs late retracts the notice, and the review counts it as carried out.
    const lateVisit = checkin({ ...haishu, agency_id: XF, officer_ids: ['330203-XF-001'], enterprise_id: b, occurred_at: '2025-08-14T10:00:00+08:00' });
    await send([lateVisit]);
    await some(b, 'plan-not-executed', (n) => n.resolution === CLEARED);
    const after = await get(`${service.url}/v1/plans/review?region=${REGION}&week=2025-W33`);
    const xf = after.body.agencies.find((r: { agency_id: string }) => r.agency_id === XF);
    expect(xf.tasks.find((t: { plan_id: string }) => t.plan_id === missed.id)).toMatchObject({ status: 'carried_out', visit: { id: lateVisit.id } });
  });

  it('is narrowed to the token\'s jurisdiction, and names a bad parameter', async () => {
    const dezhou = (await createToken(service.url, 'justice', { jurisdiction: '3714' })).token;
    const outside = await get(`${service.url}/v1/plans/review?region=${REGION}&week=2025-W33`, dezhou);
    expect(outside.status).toBe(200);
    expect(outside.body.agencies).toEqual([]);
    const hotline = (await createToken(service.url, 'hotline')).token;
    expect((await get(`${service.url}/v1/plans/review?week=2025-W33`, hotline)).status).toBe(403);
    for (const [query, field] of [['week=2025-33', 'week'], ['week=2025-W53', 'week'], ['region=3x&week=2025-W33', 'region'], ['region=330203', 'week'], ['week=2025-W33&agency=x', 'agency']]) {
      const res = await get(`${service.url}/v1/plans/review?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field), query).toContain(field);
    }
    expect((await get(`${service.url}/v1/plans/review?week=2026-W53`)).status).toBe(200);
  });
});
