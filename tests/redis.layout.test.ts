import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { complaintTicketId } from '../src/hotline/model.js';
import { bullPrefix, QUEUES } from '../src/queues/index.js';
import { freePort, startLocalRedis, type LocalRedis } from '../src/redis/local-server.js';
import { checkin, complaint, creditCode, MID_MONTH_WEEK_AGO, shanghaiAt } from './support/fixtures.js';
import { connectFeed, type FeedClient } from './support/feed-client.js';
import { eventually, get, post, put, startTestService, type TestService } from './support/service.js';

/**
 * Qingjian's Redis roles on separate real redis-servers, and its keys on a
 * real cluster-mode redis-server (which refuses any command or script whose
 * declared keys span hash slots, CROSSSLOT, even on a single node).
 */
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'qingjian-redis-layout-'));
  dirs.push(dir);
  return dir;
};

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function allKeys(redis: Redis): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys.sort();
}

let serial = 900;
/**
 * Traffic that uses every role: an unplanned visit (alert on the feed, evaluation, escalation), a complaint (hotline
 * ticket), a retried request. At a 烟台 company: no-plan holds there, and complaints there go to a 12345 ticket.
 */
async function traffic(service: TestService): Promise<{ alert: any; visit: Record<string, unknown>; ticket: string }> {
  const company = creditCode('370602', serial++);
  expect((await put(`${service.url}/v1/enterprises`, { enterprise_id: company, name: `布局测试企业${serial}号`, region: '370602', credit_grade: 'C' })).status).toBe(200);
  const client: FeedClient = await connectFeed(service.url);
  try {
    client.subscribe({ rule: 'no-plan' }, null);
    await client.next((m) => m.type === 'caught_up', 10_000, 'caught_up');
    const visit = checkin({
      enterprise_id: company, occurred_at: shanghaiAt(MID_MONTH_WEEK_AGO), region: '370602', source: 'yantai-platform',
      agency_id: '370600-SCJG', officer_ids: ['370600-SCJG-001'],
    });
    const filed = complaint({ enterprise_id: company, region: '370602' });
    expect((await post(`${service.url}/v1/events`, [visit, filed])).status).toBe(202);
    const raised = await client.next((m) => m.type === 'alert' && m.alert.enterprise_id === company, 30_000, 'the raised alert');
    // A person's action takes the company's lock and publishes again.
    expect((await post(`${service.url}/v1/alerts/${raised.alert.id}/ack`, { actor: '值班员', note: '已核实' })).status).toBe(200);
    await client.next((m) => m.type === 'alert' && m.alert.id === raised.alert.id && m.action === 'acknowledged', 20_000, 'the acknowledgement');
    const ticket = complaintTicketId(filed);
    await eventually(async () => ((await get(`${service.url}/v1/hotline/tickets/${ticket}`)).status === 200 ? true : undefined), 30_000, 'the complaint ticket');
    return { alert: raised.alert, visit, ticket };
  } finally {
    client.ws.terminate();
  }
}

describe('a Redis per role', () => {
  const servers: Record<'coordination' | 'queues' | 'dedup' | 'feed', LocalRedis> = {} as never;
  const clients: Record<string, Redis> = {};
  let service: TestService;

  beforeAll(async () => {
    for (const role of ['coordination', 'queues', 'dedup', 'feed'] as const) {
      servers[role] = await startLocalRedis({ dir: tempDir() });
      clients[role] = new Redis(servers[role].url);
    }
    service = await startTestService({
      REDIS_URL: servers.coordination.url,
      REDIS_QUEUES_URL: servers.queues.url,
      REDIS_DEDUP_URL: servers.dedup.url,
      REDIS_FEED_URL: servers.feed.url,
      RULES_WATCH: 'false',
      STORE_BATCH_WAIT_MS: '20',
      // Rate-limit counters are coordination keys: count them too.
      RATE_LIMIT_PER_MINUTE: '100000',
    });
  }, 60_000);

  afterAll(async () => {
    for (const client of Object.values(clients)) client.disconnect();
    await service?.dispose();
    for (const server of Object.values(servers)) await server.stop();
  });

  it('keeps queues, remembered ids and the feed each on its own instance, and still answers a retry as duplicate', async () => {
    const { visit } = await traffic(service);
    const retry = await post(`${service.url}/v1/events`, [visit]);
    expect(retry.body).toMatchObject({ accepted: 0, duplicates: 1, duplicate_ids: [visit.id] });

    const keys = Object.fromEntries(await Promise.all(Object.entries(clients).map(async ([role, c]) => [role, await allKeys(c)] as const)));
    const isQueue = (k: string) => k.startsWith('qj:bull:');
    const isSeen = (k: string) => k.startsWith('qj:seen:');
    const isFeed = (k: string) => k.startsWith('qj:{feed}');

    // Beside the queues: the day counters of 12345 ticket numbers (persistent, never evicted, like the queues).
    const isTicketNumber = (k: string) => /^qj:ticket-number:\d{4}-\d{2}-\d{2}$/.test(k);
    expect(keys.queues!.filter((k) => !isQueue(k) && !isTicketNumber(k))).toEqual(['qj:layout:queues']);
    for (const queue of ['{store-events}', '{evaluate-events}', '{hotline}', '{alert-timers}']) {
      expect(keys.queues!.some((k) => k.startsWith(`qj:bull:${queue}:`)), queue).toBe(true);
    }
    expect(keys.dedup!.length).toBeGreaterThan(0);
    expect(keys.dedup!.filter((k) => !isSeen(k))).toEqual([]);
    expect(keys.dedup!.some((k) => k.endsWith(`:${visit.id}`))).toBe(true);
    expect(keys.feed!.filter((k) => !isFeed(k))).toEqual(['qj:layout:feed']);
    expect(keys.feed).toContain('qj:{feed}');
    expect(await clients.feed!.xlen('qj:{feed}')).toBeGreaterThanOrEqual(2);
    // Coordination: rate-limit counters (locks are released by now), nothing of the other roles.
    expect(keys.coordination!.some((k) => k.startsWith('qj:rate:'))).toBe(true);
    expect(keys.coordination!.filter((k) => isQueue(k) || isSeen(k) || isFeed(k))).toEqual([]);
  }, 90_000);

  it('is ready only while every instance answers', async () => {
    const ready = await get(`${service.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({
      redis: 'ok', 'redis:queues': 'ok', 'redis:dedup': 'ok', 'redis:feed': 'ok', clickhouse: 'ok', migrations: 'ok',
    });
    await servers.dedup.stop();
    const res = await eventually(async () => {
      const r = await get(`${service.url}/readyz`);
      return r.status === 503 ? r : undefined;
    }, 10_000, '503 from /readyz');
    expect(res.body.checks['redis:dedup']).toMatch(/^failing/);
    expect(res.body.checks.redis).toBe('ok');
    expect(res.body.checks['redis:queues']).toBe('ok');
  }, 30_000);
});

/** A one-node Redis Cluster: it owns every slot, so a plain client works, and it enforces CROSSSLOT like any cluster. */
async function startClusterNode(): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = tempDir();
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
    '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'),
  ], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const admin = new Redis(url, { lazyConnect: true, retryStrategy: () => 50 });
  admin.on('error', () => {});
  await eventually(async () => ((await admin.ping()) === 'PONG' ? true : undefined), 10_000, 'cluster node');
  await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
  await eventually(async () => (String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok') ? true : undefined), 10_000, 'cluster_state:ok');
  admin.disconnect();
  return {
    url,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

describe('Redis Cluster hash slots', () => {
  let node: { url: string; stop(): Promise<void> };
  let redis: Redis;
  let service: TestService;

  beforeAll(async () => {
    node = await startClusterNode();
    redis = new Redis(node.url);
    service = await startTestService({ REDIS_URL: node.url, RULES_WATCH: 'false', STORE_BATCH_WAIT_MS: '20', RATE_LIMIT_PER_MINUTE: '100000' });
  }, 60_000);

  afterAll(async () => {
    redis?.disconnect();
    await service?.dispose();
    await node?.stop();
  });

  const slot = async (key: string) => Number(await redis.call('CLUSTER', 'KEYSLOT', key));

  it('runs the whole pipeline on a cluster node without one cross-slot command', async () => {
    const { visit } = await traffic(service);
    expect((await post(`${service.url}/v1/events`, [visit])).body).toMatchObject({ duplicates: 1 });
    const errors = String(await redis.info('errorstats'));
    expect(errors).not.toMatch(/CROSSSLOT|non local key|same slot/i);
  }, 90_000);

  it('puts every key of one queue in one slot, different queues in different slots, the feed in one', async () => {
    const keys = await allKeys(redis);
    const slotsOf = async (match: (k: string) => boolean) => new Set(await Promise.all(keys.filter(match).map(slot)));
    const queueSlots: number[] = [];
    for (const queue of ['{store-events}', '{evaluate-events}', '{hotline}', '{alert-timers}']) {
      const slots = await slotsOf((k) => k.startsWith(`qj:bull:${queue}:`));
      expect(slots.size, queue).toBe(1);
      queueSlots.push(...slots);
    }
    expect(new Set(queueSlots).size).toBe(4);
    expect((await slotsOf((k) => k.startsWith('qj:{feed}'))).size).toBe(1);
    // Remembered ids spread over many slots (the memory), one slot per bucket.
    const seen = keys.filter((k) => k.startsWith('qj:seen:'));
    expect(seen.length).toBeGreaterThan(0);
    for (const key of seen) expect(await slot(key)).toBe(await slot(key.slice(0, key.indexOf('}') + 1)));
  });

  it('would refuse the untagged layout (the node really enforces slots)', async () => {
    const untagged = new Queue('store-events', { connection: redis, prefix: bullPrefix('untagged') });
    await expect(untagged.add('envelope', { received_at: '', events: [] })).rejects.toThrow(/CROSSSLOT|same slot/i);
    await untagged.close();
    // And the error statistics the first test reads do count such a refusal.
    expect(String(await redis.info('errorstats'))).toMatch(/CROSSSLOT/);
  });
});

describe('upgrading keys of the untagged layout', () => {
  let server: LocalRedis;
  let redis: Redis;
  let service: TestService | undefined;

  beforeAll(async () => {
    server = await startLocalRedis({ dir: tempDir() });
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
  });

  afterAll(async () => {
    redis?.disconnect();
    await service?.dispose();
    await server?.stop();
  });

  it('moves queued jobs and the feed history under the hash-tagged names at start, and the jobs run', async () => {
    // What 0.1.0 left in Redis: an accepted event still queued for storage, and the feed's stream with a marker.
    const event = checkin({ occurred_at: shanghaiAt(MID_MONTH_WEEK_AGO) });
    const old = new Queue('store-events', { connection: redis, prefix: 'qj:bull' });
    await old.add('envelope', { received_at: new Date().toISOString(), events: [event] }, QUEUES.store.defaultJobOptions);
    await old.close();
    await redis.xadd('qj:feed', '*', 'm', '{"v":1,"type":"alert"}', 'rule', 'no-plan', 'sev', 'high', 'region', '371402', 'agency', 'x');
    await redis.set('qj:feed:sent:a1:1', '1', 'EX', 600);

    service = await startTestService({ REDIS_URL: server.url, RULES_WATCH: 'false', STORE_BATCH_WAIT_MS: '20' });
    await eventually(async () => {
      const [row] = await service!.storage.query<{ n: string }>('SELECT count() AS n FROM events WHERE id = {id:String}', { id: event.id });
      return Number(row!.n) === 1 ? true : undefined;
    }, 30_000, 'the queued event stored');
    const keys = await allKeys(redis);
    expect(keys.filter((k) => k.startsWith('qj:bull:store-events:') || k === 'qj:feed' || k.startsWith('qj:feed:'))).toEqual([]);
    expect(await redis.xlen('qj:{feed}')).toBe(1);
    expect(await redis.exists('qj:{feed}:sent:a1:1')).toBe(1);
    expect(await redis.ttl('qj:{feed}:sent:a1:1')).toBeGreaterThan(0);
  }, 90_000);
});
