import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRateLimiter } from '../src/auth/rate-limit.js';
import { auth, createToken, startTestService, type TestService } from './support/service.js';

// Per-token limits counted in the service's real Redis.
let service: TestService;
let redis: Redis;

beforeAll(async () => {
  service = await startTestService({ RULES_WATCH: 'false', RATE_LIMIT_PER_MINUTE: '5' });
  redis = new Redis(service.redisUrl);
});

afterAll(async () => {
  redis?.disconnect();
  await service?.dispose();
});

const newToken = (role: string) => createToken(service.url, role);

describe('rate limits', () => {
  it('answers 429 with Retry-After past the limit, per token, and says how much is left', async () => {
    const a = await newToken('justice');
    const b = await newToken('justice');
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 7; i++) {
      last = await fetch(`${service.url}/v1/rules`, { headers: auth(a.token) });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const retryAfter = Number(last!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(last!.headers.get('ratelimit-remaining')).toBe('0');
    expect((await last!.json()).error).toBe('rate_limited');
    // Another token has its own count.
    const other = await fetch(`${service.url}/v1/rules`, { headers: auth(b.token) });
    expect(other.status).toBe(200);
    expect(other.headers.get('ratelimit-remaining')).toBe('4');
    // Public routes are not counted.
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
  });

  it('holds across processes: every limiter on the same Redis shares the count', async () => {
    const caller = { id: 'tok-shared', name: 'x', unit: '', shared: false, role: 'justice' as const, jurisdiction: '', enterprise_id: '' };
    const one = createRateLimiter(redis, 'rl-test', { perMinute: 3, ingestPerMinute: 100 });
    const two = createRateLimiter(new Redis(service.redisUrl), 'rl-test', { perMinute: 3, ingestPerMinute: 100 });
    const verdicts = [await one.take(caller), await two.take(caller), await one.take(caller), await two.take(caller)];
    expect(verdicts.map((v) => v.allowed)).toEqual([true, true, true, false]);
    // Platforms have their own, higher limit.
    expect((await one.take({ ...caller, id: 'tok-platform', role: 'ingest' })).remaining).toBe(99);
  });
});
