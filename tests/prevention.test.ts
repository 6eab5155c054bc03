import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../src/alerts/model.js';
import { readEvents } from '../src/rules/context.js';
import { createToken, eventually, get, post, put, startTestService, type TestService } from './support/service.js';
import { checkin, creditCode, evaluation, inspection, notice } from './support/fixtures.js';

/*
 * Issue 25's contract additions through HTTP, the store worker and the real ClickHouse engine: the notice to the
 * company (预告), the company's evaluation of a visit, and an inspection record's matters, remedies (救济途径) and
 * credit repair (信用修复流程). Then low-satisfaction end to end: routing follows the company's region.
 */

let service: TestService;
const events = () => `${service.url}/v1/events`;

beforeAll(async () => {
  service = await startTestService({ STORE_BATCH_WAIT_MS: '20', RULES_WATCH: 'false' });
  for (const [agency_id, name, region] of [['371400-SCJG', '德州市市场监督管理局', '371400'], ['370600-SCJG', '烟台市市场监督管理局', '370600']]) {
    expect((await put(`${service.url}/v1/agencies`, { agency_id, name, region, kind: 'market_regulation' })).status).toBe(200);
  }
});
afterAll(() => service?.dispose());

const accepted = async (...batch: object[]) => {
  const res = await post(events(), batch);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
};

/** The errors a single bad event (after a good one) gets: all of them blame index 1. */
async function refused(event: object): Promise<Array<{ field: string; message: string }>> {
  const res = await post(events(), [checkin(), event]);
  expect(res.status).toBe(400);
  expect(res.body.error).toBe('validation_failed');
  expect(res.body.errors.every((e: { index: number }) => e.index === 1)).toBe(true);
  return res.body.errors;
}

interface Stored {
  id: string; type: string; officer_ids: string[]; matters: string[]; remedies: string; credit_repair: string;
  score: number | null; channel: string; window_start: string | null; window_end: string | null; plan_id: string;
}

const stored = (id: string) => eventually(async () => {
  const rows = await service.storage.query<Stored>(
    `SELECT id, type, officer_ids, matters, remedies, credit_repair, score, channel, window_start, window_end, plan_id
     FROM events FINAL WHERE id = {id:String}`, { id });
  return rows[0];
}, 20_000, `${id} stored`);

const YUNHE = creditCode('331125', 60);
const span = (from: string, to: string) => new Map([[null, { from: Date.parse(from), to: Date.parse(to) }]]);

describe('notice to the company (预告)', () => {
  it('stores the matters, officers, channel and the day noticed as a one-day window, and the engine reads them', async () => {
    const told = notice({ enterprise_id: YUNHE, plan_id: 'YH-2026-31' });
    await accepted(told);
    expect(await stored(told.id)).toMatchObject({
      type: 'notice', officer_ids: ['331125-SCJG-001', '331125-SCJG-002'], matters: ['食品生产许可条件检查'], channel: 'sms',
      window_start: '2026-11-18', window_end: '2026-11-18', plan_id: 'YH-2026-31', score: null,
    });
    const read = (await readEvents(service.storage, [YUNHE], span('2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z'))).get(YUNHE)!;
    expect(read.find((e) => e.id === told.id)).toMatchObject({
      type: 'notice', agency_id: '331125-SCJG', matters: ['食品生产许可条件检查'], window_start: '2026-11-18', officer_ids: ['331125-SCJG-001', '331125-SCJG-002'],
    });
  });

  it('shows it in the company timeline as accepted', async () => {
    const company = creditCode('331125', 61);
    const told = notice({ enterprise_id: company });
    await accepted(told);
    await stored(told.id);
    const timeline = await get(`${service.url}/v1/enterprises/${company}/timeline?from=2026-11-01&to=2026-12-01`);
    expect(timeline.body.items).toEqual([expect.objectContaining({ id: told.id, type: 'notice', visit_date: '2026-11-18', matters: ['食品生产许可条件检查'] })]);
  });

  it('refuses bad fields, naming each', async () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ matters: [] }, 'matters', /at least one matter/],
      [{ matters: undefined }, 'matters', /required/],
      [{ officer_ids: [] }, 'officer_ids', /at least one officer/],
      [{ visit_date: '2026-02-30' }, 'visit_date', /date/],
      [{ visit_date: undefined }, 'visit_date', /required/],
      [{ channel: 'pigeon' }, 'channel', /sms.*in_person/],
      [{ agency_id: undefined }, 'agency_id', /required/],
      [{ score: 90 }, 'score', /not a known field/],
    ];
    for (const [overrides, field, message] of cases) {
      expect(await refused(notice(overrides)), field).toContainEqual({ index: 1, field, message: expect.stringMatching(message) });
    }
  });
});

describe('evaluation of a visit (企业评价)', () => {
  it('stores the score and channel; the comment is kept in the accepted event', async () => {
    const rated = evaluation({ enterprise_id: creditCode('371402', 62), score: 95, visit_event_id: 'ci-visit-1' });
    await accepted(rated);
    expect(await stored(rated.id)).toMatchObject({ type: 'evaluation', score: 95, channel: 'sms', window_start: null });
    const timeline = await get(`${service.url}/v1/enterprises/${rated.enterprise_id}/timeline?from=2026-11-01&to=2026-12-01`);
    expect(timeline.body.items).toEqual([expect.objectContaining({ id: rated.id, score: 95, comment: '流程规范,检查到位,也没多耽误时间', visit_event_id: 'ci-visit-1' })]);
  });

  it('refuses a score off the 0–100 scale or not whole, and other bad fields, naming each', async () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ score: 101 }, 'score', /at most 100/],
      [{ score: -1 }, 'score', /at least 0/],
      [{ score: 95.5 }, 'score', /whole number/],
      [{ score: '95' }, 'score', /number/],
      [{ score: undefined }, 'score', /required/],
      [{ channel: 'wechat' }, 'channel', /"sms"/],
      [{ agency_id: undefined }, 'agency_id', /required/],
      [{ comment: '评'.repeat(2001) }, 'comment', /2000/],
      [{ visit_event_id: 'a b' }, 'visit_event_id', /printable/],
    ];
    for (const [overrides, field, message] of cases) {
      expect(await refused(evaluation(overrides)), field).toContainEqual({ index: 1, field, message: expect.stringMatching(message) });
    }
  });
});

describe('inspection records: matters, remedies and credit repair', () => {
  it('stores them and the engine reads them, with the record\'s end', async () => {
    const company = creditCode('350302', 63);
    const penalty = inspection({
      enterprise_id: company, region: '350302', agency_id: '350300-SCJG', outcome: 'penalty', matters: ['产品质量', '标签标识'],
      remedies: '可于60日内申请行政复议', credit_repair: '履行完毕后可申请信用修复',
    });
    await accepted(penalty);
    expect(await stored(penalty.id)).toMatchObject({ matters: ['产品质量', '标签标识'], remedies: '可于60日内申请行政复议', credit_repair: '履行完毕后可申请信用修复' });
    const read = (await readEvents(service.storage, [company], span('2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z'))).get(company)!;
    expect(read[0]).toMatchObject({
      matters: ['产品质量', '标签标识'], remedies: '可于60日内申请行政复议', credit_repair: '履行完毕后可申请信用修复',
      ended_at: Date.parse('2026-11-20T11:00:00+08:00'), score: null,
    });
  });

  it('refuses bad ones, naming the field', async () => {
    expect(await refused(inspection({ remedies: '救'.repeat(2001) }))).toContainEqual({ index: 1, field: 'remedies', message: expect.stringMatching(/2000/) });
    expect(await refused(inspection({ credit_repair: 7 }))).toContainEqual({ index: 1, field: 'credit_repair', message: expect.stringMatching(/string/) });
    expect(await refused(inspection({ matters: '标签' }))).toContainEqual({ index: 1, field: 'matters', message: expect.stringMatching(/array/) });
  });
});

describe('low-satisfaction: routing follows the region', () => {
  let serial = 70;
  async function company(district: string): Promise<string> {
    const id = creditCode(district, serial++);
    expect((await put(`${service.url}/v1/enterprises`, { enterprise_id: id, name: `评价测试企业${serial}号`, region: district, credit_grade: 'C' })).status).toBe(200);
    return id;
  }
  const alertOf = (enterprise: string) => eventually(async () => {
    const res = await get(`${service.url}/v1/alerts?enterprise=${enterprise}&rule=low-satisfaction&limit=100`);
    return (res.body.items as Alert[])[0];
  }, 30_000, `low-satisfaction for ${enterprise}`);
  const tickets = async () => (await get(`${service.url}/v1/hotline/tickets?limit=500`)).body.items as Array<{ alert_id: string | null; source: string; enterprise_id: string }>;

  it('德州: a score of 40 goes to the discipline commission\'s feed, and opens no ticket; 95 raises nothing', async () => {
    const dezhou = await company('371402');
    const pleased = await company('371402');
    await accepted(
      evaluation({ enterprise_id: dezhou, score: 40, comment: '检查时间过长' }),
      evaluation({ enterprise_id: pleased, score: 95 }),
    );
    const alert = await alertOf(dezhou);
    expect(alert).toMatchObject({ rule_id: 'low-satisfaction', channels: ['feed'], agency_id: '371400-SCJG', figures: { score: 40, level: '不满意' } });
    expect(alert.message.zh).toContain('评分40分，属“不满意”');
    // The feed carries it: the discipline commission's token reads the alert.
    const commission = await createToken(service.url, 'discipline', { jurisdiction: '3714' });
    const seen = await get(`${service.url}/v1/alerts?enterprise=${dezhou}&rule=low-satisfaction`, commission.token);
    expect(seen.body.items.map((a: Alert) => a.id)).toEqual([alert.id]);
    // Nothing for the satisfied company; and no ticket for 德州 (evaluated after the alert was delivered).
    expect((await get(`${service.url}/v1/alerts?enterprise=${pleased}`)).body.items).toEqual([]);
    expect((await tickets()).some((t) => t.enterprise_id === dezhou)).toBe(false);
  });

  it('烟台: 执法不满意 opens a 12345 ticket for the alert, and the justice bureau sees the alert too', async () => {
    const yantai = await company('370602');
    await accepted(evaluation({ enterprise_id: yantai, region: '370602', agency_id: '370600-SCJG', score: 20, channel: 'app', source: 'yantai-platform' }));
    const alert = await alertOf(yantai);
    expect(alert).toMatchObject({ channels: ['hotline', 'feed'], figures: { score: 20, level: '不满意' } });
    const ticket = await eventually(async () => (await tickets()).find((t) => t.alert_id === alert.id), 30_000, '烟台 ticket');
    expect(ticket).toMatchObject({ source: 'alert', enterprise_id: yantai });
    const justice = await createToken(service.url, 'justice', { jurisdiction: '3706' });
    const seen = await get(`${service.url}/v1/alerts?enterprise=${yantai}&rule=low-satisfaction`, justice.token);
    expect(seen.body.items.map((a: Alert) => a.id)).toEqual([alert.id]);
  });
});

describe('OpenAPI', () => {
  it('documents the notice and evaluation types and the new record fields', async () => {
    const doc = (await get(`${service.url}/openapi.json`)).body;
    const byType = new Map<string, { properties: Record<string, { enum?: string[]; maximum?: number; minimum?: number }>; required: string[] }>(
      doc.components.schemas.Event.oneOf.map((s: { properties: { type: { const: string } } }) => [s.properties.type.const, s]));
    expect(byType.get('notice')!.required).toEqual(expect.arrayContaining(['enterprise_id', 'agency_id', 'officer_ids', 'matters', 'visit_date']));
    const rated = byType.get('evaluation')!;
    expect(rated.required).toEqual(expect.arrayContaining(['enterprise_id', 'agency_id', 'score', 'channel']));
    expect(rated.properties.score).toMatchObject({ minimum: 0, maximum: 100 });
    expect(Object.keys(byType.get('inspection')!.properties)).toEqual(expect.arrayContaining(['matters', 'remedies', 'credit_repair']));
  });
});
