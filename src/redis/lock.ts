import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Named mutual-exclusion locks in Redis, taken all or nothing. The rule engine
 * locks every company it reconciles (hundreds at once) and a person's action
 * locks one, so an acknowledgement can never be overwritten by a stale
 * evaluation. Each attempt is one pipeline of `SET NX PX`, one round trip
 * however many names; holding some but not all is never kept, so two callers
 * with overlapping sets cannot deadlock.
 *
 * Locks are leases: short-lived, and renewed every third of their TTL while
 * the holder works, so a long evaluation keeps them however long it takes,
 * and a holder that dies (SIGKILL, a lost machine) lets them go within one TTL.
 */
export interface LockOptions {
  /** How long a lock outlives its holder's last renewal: how soon a dead holder's locks are free again. */
  ttlMs?: number;
  /** How long to keep trying before giving up with LockTimeoutError. */
  waitMs?: number;
}

export interface Locks {
  withLocks<T>(names: string[], fn: () => Promise<T>, opts?: LockOptions): Promise<T>;
  /**
   * Takes whichever of the locks are free, at once and without waiting, runs
   * fn with their names, and releases them. For work that can hand the busy
   * part back (the engine re-queues those companies) rather than wait for it.
   */
  withFreeLocks<T>(names: string[], fn: (held: string[]) => Promise<T>, opts?: Pick<LockOptions, 'ttlMs'>): Promise<T>;
}

export class LockTimeoutError extends Error {
  constructor(readonly lock: string, waitedMs: number) {
    super(`lock "${lock}" still held after waiting ${waitedMs} ms`);
    this.name = 'LockTimeoutError';
  }
}

const DEFAULT_TTL_MS = 5_000;
const DEFAULT_WAIT_MS = 10_000;
const FIRST_BACKOFF_MS = 10;
const MAX_BACKOFF_MS = 500;

// Deletes the key only if it still carries our token: a lock that expired and
// was taken by someone else must stay theirs. One key per call, pipelined:
// each lock hashes to its own Redis Cluster slot, and a script may only touch one.
const RELEASE = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0`;

// Extends the key's life only while it still carries our token.
const RENEW = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0`;

export function createLocks(redis: Redis, prefix: string): Locks {
  const keyOf = (name: string) => `${prefix}:lock:${name}`;

  /**
   * Runs fn while renewing the held locks every ttlMs / 3. A renewal that fails (Redis away for a moment) is
   * tried again at the next tick; a lease already lost cannot be taken back, and its next holder keeps it.
   */
  async function leased<T>(names: string[], token: string, ttlMs: number, fn: () => Promise<T>): Promise<T> {
    if (names.length === 0) return fn();
    const renewal = setInterval(() => {
      const pipeline = redis.pipeline();
      for (const name of names) pipeline.eval(RENEW, 1, keyOf(name), token, ttlMs);
      pipeline.exec().catch(() => {});
    }, Math.max(1, Math.floor(ttlMs / 3)));
    try {
      return await fn();
    } finally {
      clearInterval(renewal);
    }
  }

  /** Takes every key or none; returns the name of a lock someone else holds, or null when all are ours. */
  async function tryAcquire(names: string[], token: string, ttlMs: number): Promise<string | null> {
    const pipeline = redis.pipeline();
    for (const name of names) pipeline.set(keyOf(name), token, 'PX', ttlMs, 'NX');
    const replies = (await pipeline.exec()) ?? [];
    const taken = names.filter((_, i) => replies[i]?.[1] === 'OK');
    if (taken.length === names.length) return null;
    await release(taken, token);
    const failure = replies.find(([err]) => err)?.[0];
    if (failure) throw failure;
    return names.find((_, i) => replies[i]?.[1] !== 'OK')!;
  }

  async function release(names: string[], token: string): Promise<void> {
    if (names.length === 0) return;
    const pipeline = redis.pipeline();
    for (const name of names) pipeline.eval(RELEASE, 1, keyOf(name), token);
    await pipeline.exec();
  }

  return {
    async withFreeLocks(names, fn, opts = {}) {
      const unique = [...new Set(names)];
      const token = randomUUID();
      const pipeline = redis.pipeline();
      for (const name of unique) pipeline.set(keyOf(name), token, 'PX', opts.ttlMs ?? DEFAULT_TTL_MS, 'NX');
      const replies = unique.length > 0 ? (await pipeline.exec()) ?? [] : [];
      const held = unique.filter((_, i) => replies[i]?.[1] === 'OK');
      try {
        const failure = replies.find(([err]) => err)?.[0];
        if (failure) throw failure;
        return await leased(held, token, opts.ttlMs ?? DEFAULT_TTL_MS, () => fn(held));
      } finally {
        await release(held, token).catch(() => {});
      }
    },
    async withLocks(names, fn, opts = {}) {
      const unique = [...new Set(names)];
      if (unique.length === 0) return fn();
      const { ttlMs = DEFAULT_TTL_MS, waitMs = DEFAULT_WAIT_MS } = opts;
      const token = randomUUID();
      const deadline = Date.now() + waitMs;
      for (let backoff = FIRST_BACKOFF_MS; ; backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)) {
        const held = await tryAcquire(unique, token, ttlMs);
        if (held === null) break;
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new LockTimeoutError(held, waitMs);
        // Jitter keeps callers that collided from colliding again in lockstep.
        await sleep(Math.min(remaining, backoff / 2 + Math.random() * backoff / 2));
      }
      try {
        return await leased(unique, token, ttlMs, fn);
      } finally {
        // A failed release is not the caller's failure: the work is done, and the locks expire after ttlMs.
        await release(unique, token).catch(() => {});
      }
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
