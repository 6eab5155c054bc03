import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJournal } from '../src/feed/index.js';
import { startLocalRedis, type LocalRedis } from '../src/redis/local-server.js';
import { startClickHouseHttp } from './support/clickhouse-http.js';
import { checkin, creditCode, MID_MONTH_WEEK_AGO, shanghaiAt } from './support/fixtures.js';
import { connectFeed, type FeedClient } from './support/feed-client.js';
import { post, put, startTestService, type TestService } from './support/service.js';

/**
 * The feed across processes: a worker and two API processes share one Redis
 * and one ClickHouse endpoint (the chdb HTTP shim). An alert raised by the
 * worker reaches sockets on both APIs, and a client of an API that restarts
 * resumes with what it missed.
 */
const dir = mkdtempSync(join(tmpdir(), 'qingjian-feed-cluster-'));
let clickhouse: { url: string; close(): Promise<void> };
let redis: LocalRedis;
let worker: TestService;
let apiA: TestService;
let apiB: TestService;
const clients: FeedClient[] = [];

const shared = () => ({ REDIS_URL: redis.url, CLICKHOUSE_URL: clickhouse.url, STORE_BATCH_WAIT_MS: '20', RULES_WATCH: 'false' });

beforeAll(async () => {
  clickhouse = await startClickHouseHttp({ dataDir: join(dir, 'clickhouse') });
  redis = await startLocalRedis({ dir: join(dir, 'redis') });
  worker = await startTestService(shared(), { api: false, worker: true }, join(dir, 'worker'));
  apiA = await startTestService(shared(), { api: true, worker: false }, join(dir, 'api-a'));
  apiB = await startTestService(shared(), { api: true, worker: false }, join(dir, 'api-b'));
  await put(`${apiA.url}/v1/agencies`, { agency_id: '370600-SCJG', name: '烟台市市场监督管理局', region: '370600', kind: 'market_regulation' });
});

afterAll(async () => {
  for (const c of clients) c.ws.terminate();
  await apiA?.stop();
  await apiB?.stop();
  await worker?.stop();
  await redis?.stop();
  await clickhouse?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function subscribed(url: string, after: string | null = null): Promise<FeedClient> {
  const client = await connectFeed(url);
  clients.push(client);
  client.subscribe({}, after);
  await client.next((m) => m.type === 'caught_up', 10_000, 'caught_up');
  return client;
}

// A 烟台 (370602) company: no-plan holds there, so a check-in without a plan raises one alert.
let serial = 1100;
async function unplannedVisit(api: TestService): Promise<string> {
  const company = creditCode('370602', serial++);
  expect((await put(`${api.url}/v1/enterprises`, { enterprise_id: company, name: `集群测试企业${serial}号`, region: '370602', credit_grade: 'C' })).status).toBe(200);
  const visit = checkin({
    enterprise_id: company, region: '370602', source: 'yantai-platform', agency_id: '370600-SCJG', officer_ids: ['370600-SCJG-001'],
    occurred_at: shanghaiAt(MID_MONTH_WEEK_AGO),
  });
  expect((await post(`${api.url}/v1/events`, [visit])).status).toBe(202);
  return company;
}

describe('feed across processes', () => {
  it('an alert raised in the worker reaches clients of every API process, with the same seq', async () => {
    const onA = await subscribed(apiA.url);
    const onB = await subscribed(apiB.url);
    const viaA = await unplannedVisit(apiA);
    const viaB = await unplannedVisit(apiB);
    for (const company of [viaA, viaB]) {
      const a = await onA.next((m) => m.type === 'alert' && m.alert.enterprise_id === company, 20_000, `alert for ${company} on A`);
      const b = await onB.next((m) => m.type === 'alert' && m.alert.enterprise_id === company, 20_000, `alert for ${company} on B`);
      expect(a.seq).toBe(b.seq);
      expect(a.alert.id).toBe(b.alert.id);
      expect(a.alert.rule_id).toBe('no-plan');
    }
  });

  it('a client of an API process that restarts resumes with what it missed', async () => {
    const client = await subscribed(apiA.url);
    await unplannedVisit(apiB);
    await client.next(() => client.alerts().length >= 1, 20_000, 'a first alert');
    const lastSeen = client.alerts().at(-1).seq;
    const port = new URL(apiA.url).port;
    await apiA.stop();
    expect((await client.closed).code).toBe(1001);

    const missed = await unplannedVisit(apiB);
    apiA = await startTestService({ ...shared(), PORT: port }, { api: true, worker: false }, apiA.dataDir);
    const resumed = await subscribed(apiA.url, lastSeen);
    const alerts = resumed.alerts();
    await resumed.next((m) => m.type === 'alert' && m.alert.enterprise_id === missed, 20_000, 'the missed alert');
    expect(alerts.map((m) => m.alert.enterprise_id)).toEqual([missed]);
  });

  it('terminates a client that stops answering pings, and keeps the ones that answer', async () => {
    // An API process of its own with a fast heartbeat (the others keep the default).
    const api = await startTestService({ ...shared(), FEED_PING_MS: '300' }, { api: true, worker: false }, join(dir, 'api-heartbeat'));
    try {
      const dead = await connectFeed(api.url, { autoPong: false });
      const alive = await connectFeed(api.url);
      clients.push(dead, alive);
      const started = Date.now();
      await dead.closed;
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(alive.ws.readyState).toBe(alive.ws.OPEN);
    } finally {
      await api.stop();
    }
  });

  it('tells a client whose position was trimmed away to reload (reset), then continues', async () => {
    const connection = new Redis(redis.url);
    const journal = createJournal(connection, apiA.config.REDIS_PREFIX, { retain: 100, openReader: () => new Redis(redis.url) });
    const payload = (id: string) => JSON.stringify({ v: 1, type: 'alert', action: 'raised', actor: 'test', alert: { id } });
    const entry = (id: string) => ({ key: id, push: true, payload: payload(id), rule: 'no-plan', severity: 'high', region: '371402', agency: '' });
    await journal.publish([entry(`trim-first-${process.pid}`)]);
    const first = (await journal.state()).latest;
    for (let b = 0; b < 10; b++) await journal.publish(Array.from({ length: 100 }, (_, i) => entry(`trim-${process.pid}-${b}-${i}`)));
    connection.disconnect();

    const client = await subscribed(apiB.url, first);
    const reset = client.messages.find((m) => m.type === 'reset');
    expect(reset).toMatchObject({ reason: 'history_trimmed' });
    expect(client.messages.findIndex((m) => m.type === 'reset')).toBeLessThan(client.messages.findIndex((m) => m.type === 'alert'));
    expect(client.alerts().at(-1).alert.id).toBe(`trim-${process.pid}-9-99`);
  });
});
