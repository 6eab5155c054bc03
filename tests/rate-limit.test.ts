import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createRateLimiter } from '../src/auth/rate-limit.js';
import { feedUrl } from './support/feed-client.js';
import { auth, createToken, startTestService, TEST_TOKEN, type TestService } from './support/service.js';

// Per-token limits counted in the service's real Redis by rate-limiter-flexible: 30 a minute is 5 per 10 s.
let service: TestService;
let redis: Redis;

beforeAll(async () => {
  service = await startTestService({ RULES_WATCH: 'false', RATE_LIMIT_PER_MINUTE: '30', RATE_LIMIT_FEED_CONNECTS_PER_MINUTE: '12' });
  redis = new Redis(service.redisUrl);
});

afterAll(async () => {
  redis?.disconnect();
  await service?.dispose();
});

const newToken = (role: string) => createToken(service.url, role);

/** The handshake's status (101 when the feed opened) and headers. */
const upgrade = (token: string) => new Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>((resolve) => {
  const ws = new WebSocket(feedUrl(service.url), { headers: auth(token) });
  ws.on('open', () => {
    resolve({ status: 101, headers: {} });
    ws.close();
  });
  ws.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
  ws.on('error', () => {});
});

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
    expect(retryAfter).toBeLessThanOrEqual(10);
    expect(last!.headers.get('ratelimit-remaining')).toBe('0');
    expect(last!.headers.get('ratelimit-policy')).toBe('5;w=10');
    expect((await last!.json()).error).toBe('rate_limited');
    // Another token has its own count.
    const other = await fetch(`${service.url}/v1/rules`, { headers: auth(b.token) });
    expect(other.status).toBe(200);
    expect(other.headers.get('ratelimit-remaining')).toBe('4');
    // Public routes are not counted.
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
  });

  it("never lets a burst spend a whole minute's allowance at once (a fixed minute allowed twice that at its boundary)", async () => {
    const { token } = await newToken('justice');
    const statuses = await Promise.all(Array.from({ length: 30 }, () => fetch(`${service.url}/v1/rules`, { headers: auth(token) }).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(25);
  });

  it('holds across processes: every limiter on the same Redis shares the count', async () => {
    const caller = { id: 'tok-shared', name: 'x', unit: '', shared: false, role: 'justice' as const, jurisdiction: '', enterprise_id: '' };
    const limits = { perMinute: 18, ingestPerMinute: 600, feedConnectsPerMinute: 6 };
    const one = createRateLimiter(redis, 'rl-test', limits);
    const second = new Redis(service.redisUrl);
    const two = createRateLimiter(second, 'rl-test', limits);
    const verdicts = [await one.take(caller), await two.take(caller), await one.take(caller), await two.take(caller)];
    second.disconnect();
    expect(verdicts.map((v) => v.allowed)).toEqual([true, true, true, false]);
    // Platforms have their own, higher limit.
    expect((await one.take({ ...caller, id: 'tok-platform', role: 'ingest' })).remaining).toBe(99);
  });

  it('limits feed upgrades per token (429 with Retry-After at the handshake) while other tokens still connect', async () => {
    const { token } = await newToken('discipline');
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof upgrade>> | undefined;
    for (let i = 0; i < 3; i++) {
      const res = await upgrade(token);
      statuses.push(res.status);
      if (res.status === 429) refused = res;
    }
    expect(statuses).toEqual([101, 101, 429]);
    expect(Number(refused!.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused!.headers['ratelimit-remaining']).toBe('0');
    expect((await upgrade(TEST_TOKEN)).status).toBe(101);
  });

  it('limits feed upgrades per address, before any token is looked at', async () => {
    // 12 a minute per token is 2 per 10 s; an address gets four times that: 8. Unknown tokens count against the address too.
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await upgrade(`qjt_unknown_${i}_000000000000000000000000000000`)).status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(8);
    expect(statuses.at(-1)).toBe(429);
  });
});
