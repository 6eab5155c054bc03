import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acknowledge, createAlertStore, SILENCE_REFRESH_MS, type Alert } from '../src/alerts/index.js';
import { HOUR } from '../src/calendar/index.js';
import { createLocks } from '../src/redis/lock.js';
import { producerConnection } from '../src/redis/connection.js';
import { checkin, creditCode, inspection, MID_MONTH_WEEK_AGO, shanghaiAt } from './support/fixtures.js';
import { connectFeed, type FeedClient } from './support/feed-client.js';
import { eventually, get, post, put, startTestService, type TestService } from './support/service.js';

// Silences, inhibition, escalation and delivery after a crash, with real workers, Redis, ClickHouse and sockets.
// The rules are the shipped ones, except that no-plan alerts escalate after 1.8 s instead of two hours.
let service: TestService;
let rulesDir: string;
let feed: FeedClient;

beforeAll(async () => {
  rulesDir = mkdtempSync(join(tmpdir(), 'qingjian-rules-'));
  cpSync(join(import.meta.dirname, '..', 'rules'), rulesDir, { recursive: true, filter: (src) => !src.endsWith('.ts') });
  const noPlan = join(rulesDir, 'no-plan.yaml');
  writeFileSync(noPlan, readFileSync(noPlan, 'utf8').replace(/^escalate_after_minutes: .*$/m, 'escalate_after_minutes: 0.03'));
  service = await startTestService({ STORE_BATCH_WAIT_MS: '20', RULES_WATCH: 'false', RULES_DIR: rulesDir });
  await put(`${service.url}/v1/agencies`, { agency_id: '371400-SCJG', name: '德州市市场监督管理局', region: '371400', kind: 'market_regulation' });
  feed = await connectFeed(service.url);
  feed.subscribe({});
  await feed.next((m) => m.type === 'caught_up');
});

afterAll(async () => {
  feed?.ws.terminate();
  await service?.dispose();
  rmSync(rulesDir, { recursive: true, force: true });
});

let serial = 900;
async function newCompany(grade = 'C'): Promise<string> {
  const id = creditCode('371402', serial++);
  expect((await put(`${service.url}/v1/enterprises`, { enterprise_id: id, name: `路由测试企业${serial}号`, region: '371402', credit_grade: grade })).status).toBe(200);
  return id;
}

const send = async (events: unknown[]) => expect((await post(`${service.url}/v1/events`, events)).status).toBe(202);

async function alertOf(enterprise: string, rule: string): Promise<Alert> {
  return eventually(async () => {
    const res = await get(`${service.url}/v1/alerts?enterprise=${enterprise}&rule=${rule}`);
    return res.body.items[0] as Alert | undefined;
  }, 20_000, `a ${rule} alert for ${enterprise}`);
}

const messagesFor = (enterprise: string) => feed.alerts().filter((m) => m.alert.enterprise_id === enterprise);

describe('silences', () => {
  it('stores a silenced alert, marked, and pushes it to nobody', async () => {
    const quiet = await newCompany();
    const loud = await newCompany();
    const created = await post(`${service.url}/v1/silences`, {
      matchers: { rule: 'no-plan', enterprise: quiet }, reason: '专项整治期间已备案', created_by: '纪委值班员', duration_minutes: 60,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ matchers: { rule: 'no-plan', enterprise: quiet, region: '', agency: '' }, state: 'active' });
    // Workers read silences at most every couple of seconds.
    await new Promise((r) => setTimeout(r, SILENCE_REFRESH_MS + 200));

    await send([checkin({ enterprise_id: quiet, occurred_at: shanghaiAt(MID_MONTH_WEEK_AGO, '10:00:00') })]);
    const silenced = await alertOf(quiet, 'no-plan');
    await send([checkin({ enterprise_id: loud, occurred_at: shanghaiAt(MID_MONTH_WEEK_AGO, '10:00:00') })]);
    await feed.next((m) => m.type === 'alert' && m.alert.enterprise_id === loud, 20_000, 'the unsilenced alert');

    expect(silenced.silenced_by).toEqual([created.body.id]);
    expect(messagesFor(quiet)).toEqual([]);
    const listed = await get(`${service.url}/v1/alerts/${silenced.id}`);
    expect(listed.body.silenced_by).toEqual([created.body.id]);
  });

  it('lists, shows and expires silences', async () => {
    const created = await post(`${service.url}/v1/silences`, {
      matchers: { region: '3714' }, reason: '系统联调', created_by: '管理员', ends_at: new Date(Date.now() + HOUR).toISOString(),
    });
    expect(created.status).toBe(201);
    expect((await get(`${service.url}/v1/silences`)).body.items.map((s: any) => s.id)).toContain(created.body.id);
    const expired = await post(`${service.url}/v1/silences/${created.body.id}/expire`, { actor: '管理员' });
    expect(expired.status).toBe(200);
    expect(expired.body).toMatchObject({ state: 'expired', expired_by: '管理员' });
    expect((await get(`${service.url}/v1/silences`)).body.items.map((s: any) => s.id)).not.toContain(created.body.id);
    expect((await get(`${service.url}/v1/silences?state=expired`)).body.items.map((s: any) => s.id)).toContain(created.body.id);
    expect((await get(`${service.url}/v1/silences/${created.body.id}`)).body.state).toBe('expired');
    expect((await get(`${service.url}/v1/silences/nope`)).status).toBe(404);
  });

  it('refuses a silence without a reason, without matchers, or with two ends, naming the field', async () => {
    const base = { matchers: { rule: 'no-plan' }, reason: '原因', created_by: '甲', duration_minutes: 10 };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...base, reason: ' ' }, 'reason'],
      [{ ...base, matchers: {} }, 'matchers'],
      [{ ...base, ends_at: new Date(Date.now() + HOUR).toISOString() }, 'ends_at'],
      [{ ...base, duration_minutes: undefined, ends_at: '2020-01-01T00:00:00Z' }, 'ends_at'],
      [{ ...base, matchers: { colour: 'red' } }, 'matchers.colour'],
      [{ ...base, created_by: undefined }, 'created_by'],
    ];
    for (const [body, field] of cases) {
      const res = await post(`${service.url}/v1/silences`, body);
      expect(res.status, field).toBe(400);
      expect(res.body.errors.map((e: any) => e.field), JSON.stringify(res.body)).toContain(field);
    }
  });
});

describe('inhibition', () => {
  it('an annual-cap alert for a company and agency inhibits lower-severity per-visit alerts for the pair that year', async () => {
    // A grade A company may not be inspected on site at all; later in the same month a check-in falls in its quiet period.
    const company = await newCompany('A');
    const month = sameYearPastMonth();
    await send([inspection({ enterprise_id: company, occurred_at: shanghaiAt(`${month}-10`, '15:00:00'), started_at: shanghaiAt(`${month}-10`, '09:30:00'), ended_at: shanghaiAt(`${month}-10`, '11:00:00') })]);
    const cap = await alertOf(company, 'annual-cap');
    expect(cap.severity).toBe('high');

    await send([checkin({ enterprise_id: company, occurred_at: shanghaiAt(`${month}-25`, '10:00:00') })]);
    const quiet = await alertOf(company, 'quiet-period');
    const noPlan = await alertOf(company, 'no-plan');
    expect(quiet.severity).toBe('medium');
    expect(quiet.inhibited_by).toBe(cap.id);
    // Same severity as the cap alert: not inhibited.
    expect(noPlan.inhibited_by).toBe('');
    await feed.next((m) => m.type === 'alert' && m.alert.id === noPlan.id, 20_000, 'the no-plan alert');
    expect(messagesFor(company).map((m) => m.alert.rule_id)).not.toContain('quiet-period');
    expect(messagesFor(company).map((m) => m.alert.rule_id)).toContain('annual-cap');
  });
});

describe('hotline routing', () => {
  it('an alert whose rule routes to the hotline opens exactly one ticket linked to it; a complaint that raises an alert opens only its own', async () => {
    const company = await newCompany('A');
    const month = sameYearPastMonth();
    const visit = (day: string) => inspection({ enterprise_id: company, occurred_at: shanghaiAt(`${month}-${day}`, '15:00:00'), started_at: shanghaiAt(`${month}-${day}`, '09:30:00'), ended_at: shanghaiAt(`${month}-${day}`, '11:00:00') });
    await send([visit('11')]);
    const cap = await alertOf(company, 'annual-cap');
    // A second inspection repeats the same cap alert (count 2): still one ticket.
    await send([visit('12')]);
    await eventually(async () => ((await alertOf(company, 'annual-cap')).count === 2 ? true : undefined));
    const complaint = { id: `co-${process.pid}-${serial}`, type: 'complaint', occurred_at: shanghaiAt(`${month}-13`, '10:00:00'), region: '371402', source: '12345',
      enterprise_id: company, agency_id: '371400-SCJG', category: 'no_scan', channel: '12345', text: '检查人员未扫码入企' };
    await send([complaint]);
    await eventually(async () => (await get(`${service.url}/v1/alerts?enterprise=${company}&variant=complaint`)).body.items[0], 20_000, 'the complaint alert');
    // The two inspections had no check-in: two entry-without-scan alerts, also routed to the hotline.
    const alerts: Alert[] = (await get(`${service.url}/v1/alerts?enterprise=${company}&limit=100`)).body.items;
    const routed = alerts.filter((a) => a.channels.includes('hotline') && a.variant !== 'complaint').map((a) => a.id).sort();
    expect(routed).toContain(cap.id);
    const ticketsOf = async () => (await get(`${service.url}/v1/hotline/tickets?limit=1000`)).body.items.filter((t: any) => t.enterprise_id === company);
    await eventually(async () => ((await ticketsOf()).length >= routed.length + 1 ? true : undefined), 20_000, 'the tickets of the company');
    await new Promise((r) => setTimeout(r, 1_000));
    const tickets = await ticketsOf();
    expect(tickets.filter((t: any) => t.source === 'alert').map((t: any) => t.alert_id).sort()).toEqual(routed);
    expect(tickets.filter((t: any) => t.source === 'complaint').map((t: any) => t.source_id)).toEqual([complaint.id]);
  });
});

describe('escalation', () => {
  it('re-sends an unacknowledged alert with raised priority until someone acknowledges it', async () => {
    const company = await newCompany();
    await send([checkin({ enterprise_id: company, occurred_at: shanghaiAt(MID_MONTH_WEEK_AGO, '10:00:00') })]);
    const second = await feed.next((m) => m.type === 'alert' && m.alert.enterprise_id === company && m.alert.escalation === 2, 20_000, 'a second escalation');
    expect(second).toMatchObject({ action: 'escalated', actor: 'system', alert: { status: 'open' } });
    const ack = await post(`${service.url}/v1/alerts/${second.alert.id}/ack`, { actor: '纪委值班员' });
    expect(ack.status).toBe(200);
    // Three escalation periods later nothing more has been sent.
    await new Promise((r) => setTimeout(r, 3 * 0.03 * 60_000 + 500));
    const actions = messagesFor(company).map((m) => [m.action, m.alert.escalation]);
    expect(actions).toEqual([['raised', 0], ['escalated', 1], ['escalated', 2], ['acknowledged', 2]]);
    const history = (await get(`${service.url}/v1/alerts/${second.alert.id}`)).body.history.map((h: any) => h.action);
    expect(history).toEqual(['raised', 'escalated', 'escalated', 'acknowledged']);
  });
});

describe('delivery after a crash', () => {
  it('a revision stored but never delivered is delivered by the next evaluation of its company', async () => {
    const company = await newCompany();
    await send([checkin({ enterprise_id: company, occurred_at: shanghaiAt(MID_MONTH_WEEK_AGO, '10:00:00') })]);
    const raised = await feed.next((m) => m.type === 'alert' && m.alert.enterprise_id === company && m.action === 'raised');
    // What a process that died between saving and delivering leaves behind: a stored revision nobody was told about.
    const redis = producerConnection(service.redisUrl);
    const store = createAlertStore(service.storage, createLocks(redis, service.config.REDIS_PREFIX));
    const current = (await store.get(raised.alert.id))!;
    await store.save([acknowledge(current, '断电前的值班员', '', new Date())]);
    redis.disconnect();

    // Another day's visit: a different alert, so the evaluation changes nothing of the first one.
    const dayBefore = `${MID_MONTH_WEEK_AGO.slice(0, 8)}${String(Number(MID_MONTH_WEEK_AGO.slice(8)) - 1).padStart(2, '0')}`;
    await send([checkin({ enterprise_id: company, occurred_at: shanghaiAt(dayBefore, '10:00:00') })]);
    const delivered = await feed.next((m) => m.type === 'alert' && m.alert.id === raised.alert.id && m.action === 'acknowledged', 20_000, 'the undelivered acknowledgement');
    expect(delivered).toMatchObject({ actor: '断电前的值班员', alert: { revision: current.revision + 1 } });
    await new Promise((r) => setTimeout(r, 500));
    expect(feed.alerts().filter((m) => m.alert.id === raised.alert.id && m.action === 'acknowledged')).toHaveLength(1);
  });
});

// A month of this year before the current one (December of last year in January): both events in one calendar year.
function sameYearPastMonth(): string {
  const now = new Date(Date.now() + 8 * HOUR);
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth(); // 0-based: the previous month's number, 1-based
  return month === 0 ? `${year - 1}-12` : `${year}-${String(month).padStart(2, '0')}`;
}
