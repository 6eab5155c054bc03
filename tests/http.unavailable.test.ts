import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../src/http/app.js';
import { createEventAcceptor, createSeenIds, ingestRoutes } from '../src/ingest/index.js';
import { createLogger } from '../src/log.js';
import { createMetrics } from '../src/metrics/index.js';
import { createStoreQueue } from '../src/pipeline/queues.js';
import { producerConnection } from '../src/redis/connection.js';
import { startLocalRedis, type LocalRedis } from '../src/redis/local-server.js';
import { checkin } from './support/fixtures.js';

/**
 * Ingest over a Redis at its memory limit (maxmemory, noeviction) sheds load
 * with 503 + Retry-After — never a 500 — and accepts nothing from the request;
 * once the limit is lifted the same request is accepted. (Found by
 * `npm run chaos`, fault redis-oom: the OOM reply was answered 500.)
 */
const dir = mkdtempSync(join(tmpdir(), 'qingjian-unavailable-'));
let redis: LocalRedis;
let producer: Redis;
let admin: Redis;
let app: Hono;

beforeAll(async () => {
  redis = await startLocalRedis({ dir });
  producer = producerConnection(redis.url);
  producer.on('error', () => {});
  admin = new Redis(redis.url);
  const log = createLogger('silent');
  const queue = createStoreQueue(producer, 'qj');
  const acceptor = createEventAcceptor({
    queue, seen: createSeenIds(producer, 'qj', 3600), coalesceMs: 0, maxEventsPerJob: 100, log, metrics: createMetrics({ role: 'api', version: 'test' }),
  });
  app = createHttpApp({
    log, metrics: createMetrics({ role: 'api', version: 'test' }), maxBodyBytes: 1 << 20,
    routes: [ingestRoutes({ acceptor, maxEvents: 100, maxFutureSkewSeconds: 300 })],
  });
});

afterAll(async () => {
  await admin?.config('SET', 'maxmemory', '0').catch(() => {});
  admin?.disconnect();
  producer?.disconnect();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const postEvents = (body: unknown) =>
  app.request('/v1/events', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('Redis over its memory limit', () => {
  it('answers 503 with Retry-After, accepts nothing, and accepts the retry once memory is back', async () => {
    const event = checkin({ occurred_at: '2026-11-12T09:30:00+08:00' });
    await admin.config('SET', 'maxmemory', '1');

    const refused = await postEvents([event]);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toMatchObject({ error: 'unavailable' });
    expect(await admin.exists(`qj:seen:${event.id}`)).toBe(0);

    await admin.config('SET', 'maxmemory', '0');
    const accepted = await postEvents([event]);
    expect(accepted.status).toBe(202);
    expect(await accepted.json()).toMatchObject({ accepted: 1, duplicates: 0, ids: [event.id] });
  });
});
