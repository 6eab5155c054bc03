import type { MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { callerOf } from './middleware.js';
import type { Principal } from './tokens.js';

/**
 * Requests per token per minute, counted in Redis so the limit holds however
 * many API processes share the load. Fixed one-minute windows: one INCR per
 * request. Platforms (`ingest`) send batches at volume and get their own limit.
 * A limit of 0 turns it off.
 */
export interface RateLimits {
  perMinute: number;
  ingestPerMinute: number;
}

const WINDOW_MS = 60_000;

// INCR and the window's expiry in one step, so a crash between them cannot leave a counter that never expires.
const COUNT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}`;

export function createRateLimiter(redis: Redis, prefix: string, limits: RateLimits) {
  const limitOf = (principal: Principal) => (principal.role === 'ingest' ? limits.ingestPerMinute : limits.perMinute);
  return {
    /** Counts one request; says whether it is within the limit and when the window ends. */
    async take(principal: Principal): Promise<{ allowed: boolean; limit: number; remaining: number; resetMs: number }> {
      const limit = limitOf(principal);
      if (limit === 0) return { allowed: true, limit, remaining: Infinity, resetMs: 0 };
      const window = Math.floor(Date.now() / WINDOW_MS);
      const [count, ttl] = (await redis.eval(COUNT, 1, `${prefix}:rate:${principal.id}:${window}`, WINDOW_MS)) as [number, number];
      const resetMs = ttl > 0 ? ttl : WINDOW_MS;
      return { allowed: count <= limit, limit, remaining: Math.max(0, limit - count), resetMs };
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;

/** 429 with Retry-After past the limit. If Redis cannot count, the request goes on: ingest answers 503 itself then. */
export function rateLimit(limiter: RateLimiter, log: Logger): MiddlewareHandler {
  return async (c, next) => {
    const principal = callerOf(c);
    if (!principal) return next();
    const verdict = await limiter.take(principal).catch((err: Error) => {
      log.debug({ err: err.message }, 'rate limit not counted');
      return null;
    });
    if (!verdict || verdict.limit === 0) return next();
    const resetSeconds = Math.ceil(verdict.resetMs / 1000);
    c.header('RateLimit-Limit', String(verdict.limit));
    c.header('RateLimit-Remaining', String(verdict.remaining));
    c.header('RateLimit-Reset', String(resetSeconds));
    if (verdict.allowed) return next();
    c.header('Retry-After', String(resetSeconds));
    return c.json({
      error: 'rate_limited', message: `more than ${verdict.limit} requests a minute with this token; retry in ${resetSeconds} s`,
    }, 429);
  };
}
