import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acknowledge, createAlertMemory, createAlertStore, SILENCE_REFRESH_MS, type Alert } from '../src/alerts/index.js';
import { HOUR } from '../src/calendar/index.js';
import { createLocks } from '../src/redis/lock.js';
import { producerConnection } from '../src/redis/connection.js';
import { checkin, complaint, creditCode, inspection, MID_MONTH_WEEK_AGO, shanghaiAt } from './support/fixtures.js';
import { connectFeed, type FeedClient } from './support/feed-client.js';
import { eventually, get, post, put, startTestService, type TestService } from './support/service.js';

// Silences, inhibition, escalation and delivery after a crash, with real workers, Redis, ClickHouse and sockets.
// The rules and policy map are the shipped ones with two changes of this file's own: no-plan alerts escalate after
// 1.8 s instead of two hours, and annual-cap inhibits lower-severity alerts of the same company, agency and year.
// No shipped rule declares `inhibits` (separate breaches are all delivered), but the mechanism is still offered.
// Companies are where the rule under test holds: no-plan in 烟台 (370602), annual-cap and quiet-period in 云和 (331125).
const YANTAI = { region: '370602', agency: '370600-SCJG', source: 'yantai-platform' };
const YUNHE = { region: '331125', agency: '331125-SCJG', source: 'yunhe-platform' };
let service: TestService;
let rulesDir: string;
let feed: FeedClient;

beforeAll(async () => {
  rulesDir = mkdtempSync(join(tmpdir(), 'qingjian-rules-'));
  cpSync(join(import.meta.dirname, '..', 'rules'), rulesDir, { recursive: true, filter: (src) => !src.endsWith('.ts') });
  const noPlan = join(rulesDir, 'no-plan.yaml');
  writeFileSync(noPlan, readFileSync(noPlan, 'utf8').replace(/^escalate_after_minutes: .*$/m, 'escalate_after_minutes: 0.03'));
  const cap = join(rulesDir, 'annual-cap.yaml');
  const capText = readFileSync(cap, 'utf8');
  expect(capText).not.toMatch(/^inhibits:/m);
  writeFileSync(cap, capText.replace(/^(escalate_after_minutes: .*)$/m, '$1\ninhibits: { equal: [enterprise_id, agency_id], period: year }'));
  service = await startTestService({ STORE_BATCH_WAIT_MS: '20', RULES_WATCH: 'false', RULES_DIR: rulesDir });
  for (const [agency_id, name, region] of [['370600-SCJG', '烟台市市场监督管理局', '370600'], ['331125-SCJG', '云和县市场监督管理局', '331125']]) {
    expect((await put(`${service.url}/v1/agencies`, { agency_id, name, region, kind: 'market_regulation' })).status).toBe(200);
  }
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
async function newCompany(where = YANTAI, grade = 'C'): Promise<string> {
  const id = creditCode(where.region, serial++);
  expect((await put(`${service.url}/v1/enterprises`, { enterprise_id: id, name: `路由测试企业${serial}号`, region: where.region, credit_grade: grade })).status).toBe(200);
  return id;
}

/** A check-in by the agency of the company's region (a 烟台 one by default: no plan, so no-plan alone is raised). */
const visit = (enterprise_id: string, occurred_at: string, where = YANTAI) =>
  checkin({ enterprise_id, occurred_at, region: where.region, agency_id: where.agency, officer_ids: [`${where.agency}-001`], source: where.source });

/** A 云和 on-site inspection record of a morning, with no check-in. */
const yunheInspection = (enterprise_id: string, day: string) => inspection({
  enterprise_id, region: YUNHE.region, agency_id: YUNHE.agency, officer_ids: [`${YUNHE.agency}-001`], source: YUNHE.source,
  occurred_at: shanghaiAt(day, '15:00:00'), started_at: shanghaiAt(day, '09:30:00'), ended_at: shanghaiAt(day, '11:00:00'),
});

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

    await send([visit(quiet, shanghaiAt(MID_MONTH_WEEK_AGO, '10:00:00'))]);
    const silenced = await alertOf(quiet, 'no-plan');
    await send([visit(loud, shanghaiAt(MID_MONTH_WEEK_AGO, '10:00:00'))]);
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
      [{ ...base, created_by: 42 }, 'created_by'],
    ];
    for (const [body, field] of cases) {
      const res = await post(`${service.url}/v1/silences`, body);
      expect(res.status, field).toBe(400);
      expect(res.body.errors.map((e: any) => e.field), JSON.stringify(res.body)).toContain(field);
    }
  });
});

describe('inhibition', () => {
  it('an alert of a rule that declares inhibits (here annual-cap) inhibits lower-severity alerts for the company and agency that year', async () => {
    // A grade A 云和 company may not be inspected on site at all; later in the same month an unplanned, unfiled
    // check-in falls in its quiet period (下旬, the 21st: its 3 working days to file are over by now).
    const company = await newCompany(YUNHE, 'A');
    const month = sameYearPastMonth();
    await send([yunheInspection(company, `${month}-10`)]);
    const cap = await alertOf(company, 'annual-cap');
    expect(cap.severity).toBe('high');

    await send([visit(company, shanghaiAt(`${month}-21`, '10:00:00'), YUNHE)]);
    const quiet = await alertOf(company, 'quiet-period');
    // The check-in's own no-plan alert (the inspection of the 10th has one too): anchored at the start of its day.
    const noPlan = await eventually(async () => {
      const res = await get(`${service.url}/v1/alerts?enterprise=${company}&rule=no-plan&limit=100`);
      return (res.body.items as Alert[]).find((a) => a.anchor_at === new Date(shanghaiAt(`${month}-21`, '00:00:00')).toISOString());
    }, 20_000, 'the no-plan alert of the quiet-period check-in');
    expect(quiet).toMatchObject({ severity: 'medium', variant: 'unfiled', agency_id: YUNHE.agency });
    expect(quiet.inhibited_by).toBe(cap.id);
    // Same severity as the cap alert: not inhibited.
    expect(noPlan.severity).toBe('high');
    expect(noPlan.inhibited_by).toBe('');
    await feed.next((m) => m.type === 'alert' && m.alert.id === noPlan.id, 20_000, 'the no-plan alert');
    expect(messagesFor(company).map((m) => m.alert.rule_id)).not.toContain('quiet-period');
    expect(messagesFor(company).map((m) => m.alert.rule_id)).toContain('annual-cap');
  });
});

describe('hotline routing', () => {
  it('an alert whose rule routes to the hotline opens exactly one ticket linked to it; a complaint that raises an alert opens only its own', async () => {
    // 云和: annual-cap and entry-without-scan hold there (both routed to the hotline), and complaints go to 12345.
    const company = await newCompany(YUNHE, 'A');
    const month = sameYearPastMonth();
    await send([yunheInspection(company, `${month}-11`)]);
    const cap = await alertOf(company, 'annual-cap');
    // A second inspection repeats the same cap alert (count 2): still one ticket.
    await send([yunheInspection(company, `${month}-12`)]);
    await eventually(async () => ((await alertOf(company, 'annual-cap')).count === 2 ? true : undefined));
    const noScan = complaint({ occurred_at: shanghaiAt(`${month}-13`, '10:00:00'), region: YUNHE.region, enterprise_id: company, agency_id: YUNHE.agency,
      category: 'no_scan', text: '检查人员未亮码入企' });
    await send([noScan]);
    await eventually(async () => (await get(`${service.url}/v1/alerts?enterprise=${company}&variant=complaint`)).body.items[0], 20_000, 'the complaint alert');
    // The two inspections had no check-in: two entry-without-scan alerts, also routed to the hotline.
    const alerts: Alert[] = (await get(`${service.url}/v1/alerts?enterprise=${company}&limit=100`)).body.items;
    const routedAlerts = alerts.filter((a) => a.channels.includes('hotline') && a.variant !== 'complaint');
    expect(routedAlerts.map((a) => a.rule_id).sort()).toEqual(['annual-cap', 'entry-without-scan', 'entry-without-scan']);
    const routed = routedAlerts.map((a) => a.id).sort();
    expect(routed).toContain(cap.id);
    const ticketsOf = async () => (await get(`${service.url}/v1/hotline/tickets?limit=1000`)).body.items.filter((t: any) => t.enterprise_id === company);
    await eventually(async () => ((await ticketsOf()).length >= routed.length + 1 ? true : undefined), 20_000, 'the tickets of the company');
    await new Promise((r) => setTimeout(r, 1_000));
    const tickets = await ticketsOf();
    expect(tickets.filter((t: any) => t.source === 'alert').map((t: any) => t.alert_id).sort()).toEqual(routed);
    expect(tickets.filter((t: any) => t.source === 'complaint').map((t: any) => t.source_id)).toEqual([noScan.id]);
  });
});

describe('escalation', () => {
  it('re-sends an unacknowledged alert with raised priority until someone acknowledges it', async () => {
    const company = await newCompany();
    await send([visit(company, shanghaiAt(MID_MONTH_WEEK_AGO, '10:00:00'))]);
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
    await send([visit(company, shanghaiAt(MID_MONTH_WEEK_AGO, '10:00:00'))]);
    const raised = await feed.next((m) => m.type === 'alert' && m.alert.enterprise_id === company && m.action === 'raised');
    // What a process that died between saving and delivering leaves behind: a stored revision nobody was told about.
    const redis = producerConnection(service.redisUrl);
    // A producer connection has no offline queue: a command sent before it is ready fails instead of waiting.
    if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
    const store = createAlertStore(service.storage, createLocks(redis, service.config.REDIS_PREFIX), createAlertMemory(redis, service.config.REDIS_PREFIX, 0));
    const current = (await store.get(raised.alert.id))!;
    await store.save([acknowledge(current, '断电前的值班员', '', new Date())]);
    redis.disconnect();

    // Another day's visit: a different alert, so the evaluation changes nothing of the first one.
    const dayBefore = `${MID_MONTH_WEEK_AGO.slice(0, 8)}${String(Number(MID_MONTH_WEEK_AGO.slice(8)) - 1).padStart(2, '0')}`;
    await send([visit(company, shanghaiAt(dayBefore, '10:00:00'))]);
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
