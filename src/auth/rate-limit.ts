import type { MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Logger } from '../log.js';
import { callerOf } from './middleware.js';
import type { Principal } from './tokens.js';

/**
 * Request limits per token, and feed connections per token and per address, counted in Redis by
 * rate-limiter-flexible so a limit holds however many API processes share the load. A minute's allowance
 * is handed out a sixth at a time, in windows of 10 s that start at a key's first request: a client can
 * never spend two minutes' worth across a boundary (a fixed minute allowed 2×); over any 60 s it gets at
 * most 7/6 of its limit. Platforms (`ingest`) send batches at volume and get their own limit. 0 turns a limit off.
 */
export interface RateLimits {
  perMinute: number;
  ingestPerMinute: number;
  /** Feed (WebSocket) upgrades a minute, per token and (four times as many) per client address. */
  feedConnectsPerMinute: number;
}

export const WINDOW_S = 10;
const WINDOWS_PER_MINUTE = 60 / WINDOW_S;

export interface Verdict {
  allowed: boolean;
  /** Requests allowed per window ('RateLimit-Limit'); 0 means no limit. */
  limit: number;
  remaining: number;
  resetMs: number;
}

export function createRateLimiter(redis: Redis, prefix: string, limits: RateLimits) {
  const limiters = new Map<string, RateLimiterRedis>();
  // One limiter per kind of key and allowance; each counts in Redis under its own prefix.
  const limiterFor = (kind: string, perMinute: number) => {
    const name = `${kind}:${perMinute}`;
    let limiter = limiters.get(name);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: redis, keyPrefix: `${prefix}:rate:${name}`, points: Math.ceil(perMinute / WINDOWS_PER_MINUTE), duration: WINDOW_S,
      });
      limiters.set(name, limiter);
    }
    return limiter;
  };

  async function take(kind: string, key: string, perMinute: number): Promise<Verdict> {
    if (perMinute === 0) return { allowed: true, limit: 0, remaining: Infinity, resetMs: 0 };
    const limiter = limiterFor(kind, perMinute);
    const verdict = (res: RateLimiterRes, allowed: boolean): Verdict =>
      ({ allowed, limit: limiter.points, remaining: Math.max(0, res.remainingPoints), resetMs: Math.max(1, res.msBeforeNext) });
    try {
      return verdict(await limiter.consume(key), true);
    } catch (err) {
      // Over the limit the library rejects with its result; anything else is Redis failing.
      if (err instanceof RateLimiterRes) return verdict(err, false);
      throw err;
    }
  }

  return {
    /** Counts one request of a token. */
    take: (principal: Principal) => take('req', principal.id, principal.role === 'ingest' ? limits.ingestPerMinute : limits.perMinute),
    /** Counts one feed upgrade: by client address before the token is checked, then by token. */
    takeConnect: (by: 'ip' | 'token', key: string) =>
      take(`feed-${by}`, key, by === 'ip' ? limits.feedConnectsPerMinute * 4 : limits.feedConnectsPerMinute),
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;

/** The RateLimit-* fields of a verdict (IETF draft), and Retry-After when refused. */
export function rateLimitHeaders(verdict: Verdict): Record<string, string> {
  const resetSeconds = Math.ceil(verdict.resetMs / 1000);
  return {
    'RateLimit-Limit': String(verdict.limit),
    'RateLimit-Remaining': String(verdict.remaining),
    'RateLimit-Reset': String(resetSeconds),
    'RateLimit-Policy': `${verdict.limit};w=${WINDOW_S}`,
    ...(verdict.allowed ? {} : { 'Retry-After': String(resetSeconds) }),
  };
}

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
    for (const [name, value] of Object.entries(rateLimitHeaders(verdict))) c.header(name, value);
    if (verdict.allowed) return next();
    return c.json({
      error: 'rate_limited',
      message: `more than ${verdict.limit} requests in ${WINDOW_S} s with this token; retry in ${Math.ceil(verdict.resetMs / 1000)} s`,
    }, 429);
  };
}
