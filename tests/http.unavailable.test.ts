import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seenKey } from '../src/ingest/index.js';
import { checkin } from './support/fixtures.js';
import { post, startTestService, type TestService } from './support/service.js';

/**
 * Ingest over a Redis at its memory limit (maxmemory, noeviction) sheds load
 * with 503 + Retry-After — never a 500 — and accepts nothing from the request;
 * once the limit is lifted the same request is accepted. (Found by
 * `npm run chaos`, fault redis-oom: the OOM reply was answered 500.)
 */
let service: TestService;
let admin: Redis;

beforeAll(async () => {
  service = await startTestService({ RULES_WATCH: 'false' });
  admin = new Redis(service.redisUrl);
});

afterAll(async () => {
  await admin?.config('SET', 'maxmemory', '0').catch(() => {});
  admin?.disconnect();
  await service?.dispose();
});

describe('Redis over its memory limit', () => {
  it('answers 503 with Retry-After, accepts nothing, and accepts the retry once memory is back', async () => {
    const event = checkin({ occurred_at: '2026-11-12T09:30:00+08:00' });
    await admin.config('SET', 'maxmemory', '1');

    const refused = await fetch(`${service.url}/v1/events`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${service.config.QINGJIAN_BOOTSTRAP_TOKEN}` }, body: JSON.stringify([event]),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toMatchObject({ error: 'unavailable' });
    expect(await admin.exists(seenKey(service.config.REDIS_PREFIX, event.id))).toBe(0);

    await admin.config('SET', 'maxmemory', '0');
    const accepted = await post(`${service.url}/v1/events`, [event]);
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ accepted: 1, duplicates: 0, ids: [event.id] });
  });
});
