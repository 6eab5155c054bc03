import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLEARED, type Alert } from '../src/alerts/model.js';
import { HOUR, MINUTE } from '../src/calendar/index.js';
import { createWorld, generateEvents } from '../src/demo/index.js';
import { Event } from '../src/ingest/schema.js';
import { bullPrefix, QUEUES } from '../src/queues/index.js';
import { companyFacts } from '../src/rules/events.js';
import { loadRuleSet } from '../src/rules/load.js';
import { simulate } from '../src/rules/simulate.js';
import { checkin, creditCode, inspection, uniqueId } from './support/fixtures.js';
import { eventually, get, post, put, startTestService, type TestService } from './support/service.js';

// Rules evaluated by the real workers on stored events: real Redis, embedded ClickHouse, HTTP in and out.
let service: TestService;
let redis: Redis;
let evaluations: Queue;

beforeAll(async () => {
  service = await startTestService({ STORE_BATCH_WAIT_MS: '20', RULES_WATCH: 'false' });
  redis = new Redis(service.redisUrl);
  evaluations = new Queue(QUEUES.evaluate.name, { connection: redis, prefix: bullPrefix(service.config.REDIS_PREFIX) });
});

afterAll(async () => {
  await evaluations?.close();
  redis?.disconnect();
  await service?.dispose();
});

const shanghai = (ms: number) => new Date(ms + 8 * HOUR).toISOString().slice(0, 19) + '+08:00';
// A week ago at 10:00 Shanghai: inside no quiet period (the 7th to 23rd of any month are never in the last ten days).
const WEEK_AGO = (() => {
  const d = new Date(Date.now() - 7 * 24 * HOUR);
  const day = Math.min(Math.max(d.getUTCDate(), 8), 18);
  return Date.parse(`${d.toISOString().slice(0, 8)}${String(day).padStart(2, '0')}T10:00:00+08:00`);
})();

let serial = 500;
// 德州 (371402) holds frequent-visits and entry-without-scan; no-plan holds in 烟台 (370602), not in 德州.
async function newCompany(district = '371402'): Promise<string> {
  const id = creditCode(district, serial++);
  expect((await put(`${service.url}/v1/enterprises`, { enterprise_id: id, name: `测试企业${serial}号`, region: district, credit_grade: 'C' })).status).toBe(200);
  return id;
}
const YANTAI = '370602';
// A check-in by 烟台's market regulator at a 烟台 company.
const yantaiCheckin = (overrides: Record<string, unknown>) => checkin({
  region: YANTAI, source: 'yantai-platform', agency_id: '370600-SCJG', officer_ids: ['370600-SCJG-001'], ...overrides,
});

async function alertsOf(enterprise: string, extra = ''): Promise<Alert[]> {
  const res = await get(`${service.url}/v1/alerts?enterprise=${enterprise}&limit=1000${extra}`);
  expect(res.status).toBe(200);
  return res.body.items;
}

const send = async (events: unknown[]) => expect((await post(`${service.url}/v1/events`, events)).status).toBe(202);

describe('live evaluation', () => {
  it('raises a no-plan alert at once and explains it', async () => {
    await put(`${service.url}/v1/agencies`, { agency_id: '370600-SCJG', name: '烟台市市场监督管理局', region: '370600', kind: 'market_regulation' });
    const company = await newCompany(YANTAI);
    const visit = yantaiCheckin({ enterprise_id: company, occurred_at: shanghai(WEEK_AGO) });
    await send([visit]);
    const [alert] = await eventually(async () => {
      const found = await alertsOf(company, '&rule=no-plan');
      return found.length > 0 ? found : undefined;
    }, 20_000, 'no-plan alert');
    expect(alert).toMatchObject({
      rule_id: 'no-plan', rule_version: 2, variant: '', severity: 'high', status: 'open', count: 1,
      enterprise_id: company, agency_id: '370600-SCJG', params: { lead_days: 7, green_channel: true },
    });
    expect(alert!.message.zh).toContain('烟台市市场监督管理局');
    expect(alert!.message.zh).toContain('没有覆盖该企业和日期、在检查前（提前7天）报备的检查计划');
    expect(alert!.evidence).toEqual([{ event_id: visit.id, type: 'checkin', occurred_at: new Date(WEEK_AGO).toISOString(), role: 'trigger' }]);
    const detail = await get(`${service.url}/v1/alerts/${alert!.id}`);
    expect(detail.body.evidence_events[0].event.id).toBe(visit.id);
    expect(detail.body.history.map((h: { action: string }) => h.action)).toEqual(['raised']);
  });

  it('counts a repeat into the same alert: count, last seen, one record', async () => {
    const company = await newCompany();
    // Four agencies in turn: four visits to the company, none of them one agency's third (that is the same_agency alert).
    const agencies = ['371400-SCJG', '371400-YJGL', '371400-STHJ', '371400-XFJY', '371402-SCJG'];
    const visit = (i: number, at: number) => checkin({ enterprise_id: company, occurred_at: shanghai(at), agency_id: agencies[i], officer_ids: [`${agencies[i]}-001`] });
    const visits = [12, 9, 6, 3].map((daysAgo, i) => visit(i, WEEK_AGO - daysAgo * 24 * HOUR));
    await send(visits);
    const first = await eventually(async () => (await alertsOf(company, '&rule=frequent-visits'))[0], 20_000, 'frequent-visits alert');
    expect(first.count).toBe(4);
    const fifth = visit(4, WEEK_AGO);
    await send([fifth]);
    const updated = await eventually(async () => {
      const [a] = await alertsOf(company, '&rule=frequent-visits');
      return a && a.count === 5 ? a : undefined;
    }, 20_000, 'count 5');
    expect(updated.id).toBe(first.id);
    expect(updated.last_seen_at).toBe(new Date(WEEK_AGO).toISOString());
    expect(updated.revision).toBe(first.revision + 1);
    expect(await alertsOf(company, '&rule=frequent-visits')).toHaveLength(1);
  });

  it('defers an absence decision to a delayed job at the deadline plus lateness', async () => {
    const company = await newCompany();
    // The span ends two hours after the start and the rule waits 60 minutes more: the deadline is 6 s away.
    const started = Math.floor((Date.now() - 3 * HOUR + 6_000) / 1000) * 1000; // whole seconds, as sent
    const record = inspection({ enterprise_id: company, started_at: shanghai(started), ended_at: undefined, occurred_at: shanghai(Date.now() - MINUTE) });
    await send([record]);
    await eventually(async () => ((await evaluations.getDelayed()).some((j) => j.data.enterprise_id === company) ? true : undefined), 10_000, 'delayed decision');
    expect(await alertsOf(company, '&rule=entry-without-scan')).toEqual([]);
    const [alert] = await eventually(async () => {
      const found = await alertsOf(company, '&rule=entry-without-scan');
      return found.length > 0 ? found : undefined;
    }, 30_000, 'entry-without-scan alert after the deadline');
    expect(Date.parse(alert!.raised_at)).toBeGreaterThanOrEqual(started + 3 * HOUR);
    expect(alert!.evidence.map((e) => e.event_id)).toEqual([record.id]);
  });

  it('clears an alert when a late event removes its cause, saying which event', async () => {
    const company = await newCompany();
    const started = WEEK_AGO;
    await send([inspection({ enterprise_id: company, started_at: shanghai(started), ended_at: undefined, occurred_at: shanghai(started + HOUR) })]);
    const raised = await eventually(async () => (await alertsOf(company, '&rule=entry-without-scan'))[0], 20_000, 'alert');
    const scan = checkin({ enterprise_id: company, occurred_at: shanghai(started - 10 * MINUTE) });
    await send([scan]);
    const cleared = await eventually(async () => {
      const [a] = await alertsOf(company, '&rule=entry-without-scan');
      return a?.resolution === CLEARED ? a : undefined;
    }, 20_000, 'cleared');
    expect(cleared).toMatchObject({ id: raised.id, status: 'resolved', resolved_by: 'system' });
    expect(cleared.resolution_note).toContain(scan.id);
    const detail = await get(`${service.url}/v1/alerts/${raised.id}`);
    expect(detail.body.history.map((h: { action: string }) => h.action)).toEqual(['raised', 'cleared']);
  });

  it('hands a company another evaluation holds back to the queue, and decides it once free', async () => {
    const company = await newCompany(YANTAI);
    const lock = `${service.config.REDIS_PREFIX}:lock:enterprise:${company}`;
    await redis.set(lock, 'another-worker', 'PX', 30_000);
    await send([yantaiCheckin({ enterprise_id: company, occurred_at: shanghai(WEEK_AGO) })]);
    await eventually(async () => ((await evaluations.getDelayed()).some((j) => j.data.kind === 'batch'
      && j.data.changes.some((c: { enterprise_id: string }) => c.enterprise_id === company)) ? true : undefined), 10_000, 'handed back');
    expect(await alertsOf(company)).toEqual([]);
    await redis.del(lock);
    const alert = await eventually(async () => (await alertsOf(company, '&rule=no-plan'))[0], 20_000, 'alert once free');
    expect(alert.revision).toBe(1);
  });

  it('replaying an evaluation stores nothing new', async () => {
    const company = await newCompany(YANTAI);
    await send([yantaiCheckin({ enterprise_id: company, occurred_at: shanghai(WEEK_AGO) })]);
    const alert = await eventually(async () => (await alertsOf(company, '&rule=no-plan'))[0], 20_000, 'alert');
    const changes = async () => (await service.storage.query<{ n: number }>(
      'SELECT count() AS n FROM alert_changes WHERE alert_id = {id:String}', { id: alert.id }))[0]!.n;
    expect(Number(await changes())).toBe(1);
    const job = await evaluations.add('batch', { kind: 'batch', changes: [{ enterprise_id: company, from: WEEK_AGO, to: WEEK_AGO, event_ids: [] }] });
    await eventually(async () => ((await job.getState()) === 'completed' || (await evaluations.getJob(job.id!)) === undefined ? true : undefined), 20_000, 'replay done');
    const [after] = await alertsOf(company, '&rule=no-plan');
    expect(after!.revision).toBe(alert.revision);
    expect(Number(await changes())).toBe(1);
  });
});

describe('arrival order', () => {
  it('late, shuffled arrival ends with the alerts of in-order arrival', { timeout: 120_000 }, async () => {
    // 德州, 云和, 莆田 and 海曙 between them hold all seventeen rules (rules/regions.yaml).
    const world = createWorld({ seed: 77, enterprisesPerRegion: 30, regions: ['371400', '331125', '350300', '330203'] });
    // The demo deregisters 2% of 海曙's companies: make sure this small world has one for deregistered-company.
    Object.assign(world.enterprises.find((c) => c.region.startsWith('3302'))!, { status: 'deregistered', deregistered_on: '2025-12-31' });
    const to = new Date(Date.now() - 20 * 24 * HOUR);
    const inputs = generateEvents(world, { seed: 5, from: new Date(to.getTime() - 30 * 24 * HOUR), to, visitsPerDay: 12, violationRate: 0.3, idPrefix: uniqueId('order') });
    const events = inputs.map((e) => Event.parse(e));
    expect(events.length).toBeGreaterThan(300);

    // Expected: the engine on a pinned clock, every event arriving when it happened.
    const rules = (await loadRuleSet(service.config.RULES_DIR)).rules;
    const expected = simulate({
      rules,
      companies: world.enterprises.map(companyFacts),
      agencyNames: new Map(world.agencies.map((a) => [a.agency_id, a.name])),
      arrivals: events.map((event) => ({ at: Date.parse(event.occurred_at), event })),
      until: Date.now(),
    }).filter((a) => a.resolution !== CLEARED);
    expect(new Set(expected.map((a) => a.rule_id)).size).toBe(rules.length);
    expect(rules).toHaveLength(17);
    expect(expected.length).toBeGreaterThan(50);
    // The computation held this process (and the service in it) for seconds: let the service's timers run first, so the
    // keep-alive connections that expired meanwhile are closed before a request is sent on one (ECONNRESET).
    await new Promise((resolve) => setTimeout(resolve, 200));

    // Actual: the workers, with events arriving weeks late in a random order. (Sent after the simulation: a
    // keep-alive connection left idle while it holds the event loop for seconds may be closed under the next request.)
    await put(`${service.url}/v1/enterprises`, world.enterprises);
    await put(`${service.url}/v1/agencies`, world.agencies);
    const shuffled = [...inputs].sort(() => Math.random() - 0.5);
    for (let i = 0; i < shuffled.length; i += 50) await send(shuffled.slice(i, i + 50));
    const companies = new Set(world.enterprises.map((e) => e.enterprise_id));
    const standing = async () => {
      const res = await get(`${service.url}/v1/alerts?limit=1000`);
      return (res.body.items as Alert[]).filter((a) => companies.has(a.enterprise_id) && a.resolution !== CLEARED);
    };
    const summary = (alerts: Array<Pick<Alert, 'fingerprint' | 'rule_id' | 'variant' | 'count' | 'evidence'>>) =>
      alerts.map((a) => `${a.rule_id}/${a.variant} ${a.fingerprint} ×${a.count} [${a.evidence.map((e) => e.event_id).sort().join(' ')}]`).sort();
    await eventually(async () => {
      const counts = await evaluations.getJobCounts('waiting', 'active', 'prioritized');
      const stored = await service.storage.query<{ n: number }>(
        'SELECT count(DISTINCT id) AS n FROM events WHERE id IN {ids:Array(String)}', { ids: events.map((e) => e.id) });
      return Number(stored[0]!.n) === events.length && counts.waiting + counts.active + counts.prioritized === 0 ? true : undefined;
    }, 60_000, 'everything stored and evaluated');
    const actual = await eventually(async () => {
      const now = summary(await standing());
      return now.length === expected.length ? now : undefined;
    }, 30_000, `${expected.length} standing alerts`).catch(async () => summary(await standing()));
    expect(actual).toEqual(summary(expected));
  });
});
