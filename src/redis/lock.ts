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
 * A holder that stalls longer than the TTL (a blocked event loop, Redis out of
 * reach) may lose them to the next holder: it learns so from `Lease.ensure()`,
 * which it calls before it writes, and fails instead (its job is retried).
 */
export interface LockOptions {
  /** How long a lock outlives its holder's last renewal: how soon a dead holder's locks are free again. */
  ttlMs?: number;
  /** How long to keep trying before giving up with LockTimeoutError. */
  waitMs?: number;
}

/** The holder's view of its locks while it works. */
export interface Lease {
  /**
   * Throws LeaseLostError unless every lock is certainly still the holder's: the last renewal that Redis confirmed
   * for all of them was sent less than one TTL ago, and none was found taken.
   */
  ensure(): void;
}

export interface Locks {
  withLocks<T>(names: string[], fn: (lease: Lease) => Promise<T>, opts?: LockOptions): Promise<T>;
  /**
   * Takes whichever of the locks are free, at once and without waiting, runs
   * fn with their names, and releases them. For work that can hand the busy
   * part back (the engine re-queues those companies) rather than wait for it.
   */
  withFreeLocks<T>(names: string[], fn: (held: string[], lease: Lease) => Promise<T>, opts?: Pick<LockOptions, 'ttlMs'>): Promise<T>;
}

export class LeaseLostError extends Error {
  constructor(readonly locks: string[], reason: string) {
    super(`lost the lease on ${locks.length === 1 ? `lock "${locks[0]}"` : `${locks.length} locks (${locks.slice(0, 3).join(', ')}…)`}: ${reason}`);
    this.name = 'LeaseLostError';
  }
}

export class LockTimeoutError extends Error {
  constructor(readonly lock: string, waitedMs: number) {
    super(`lock "${lock}" still held after waiting ${waitedMs} ms`);
    this.name = 'LockTimeoutError';
  }
}

// A dead holder's locks are free within 2 s; a live one renews every 667 ms, so only a stall of over 1.3 s loses them.
const DEFAULT_TTL_MS = 2_000;
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
   * `acquiredAt` is when the locks were asked for: they last one TTL from then at the least.
   */
  async function leased<T>(names: string[], token: string, ttlMs: number, acquiredAt: number, fn: (lease: Lease) => Promise<T>): Promise<T> {
    let confirmedAt = acquiredAt;
    let taken: string | null = null;
    const lease: Lease = {
      ensure() {
        if (names.length === 0) return;
        if (taken !== null) throw new LeaseLostError(names, `"${taken}" was taken by another holder`);
        const since = Date.now() - confirmedAt;
        if (since >= ttlMs) throw new LeaseLostError(names, `no renewal confirmed for ${since} ms, past the ${ttlMs} ms TTL`);
      },
    };
    if (names.length === 0) return fn(lease);
    const renewal = setInterval(() => {
      const sentAt = Date.now();
      const pipeline = redis.pipeline();
      for (const name of names) pipeline.eval(RENEW, 1, keyOf(name), token, ttlMs);
      pipeline.exec().then((replies) => {
        const lost = names.findIndex((_, i) => replies?.[i]?.[1] === 0);
        if (lost >= 0) taken ??= names[lost]!;
        else if (replies?.every(([err]) => !err)) confirmedAt = Math.max(confirmedAt, sentAt);
      }, () => {});
    }, Math.max(1, Math.floor(ttlMs / 3)));
    try {
      return await fn(lease);
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
      const acquiredAt = Date.now();
      const pipeline = redis.pipeline();
      for (const name of unique) pipeline.set(keyOf(name), token, 'PX', opts.ttlMs ?? DEFAULT_TTL_MS, 'NX');
      const replies = unique.length > 0 ? (await pipeline.exec()) ?? [] : [];
      const held = unique.filter((_, i) => replies[i]?.[1] === 'OK');
      try {
        const failure = replies.find(([err]) => err)?.[0];
        if (failure) throw failure;
        return await leased(held, token, opts.ttlMs ?? DEFAULT_TTL_MS, acquiredAt, (lease) => fn(held, lease));
      } finally {
        await release(held, token).catch(() => {});
      }
    },
    async withLocks(names, fn, opts = {}) {
      const unique = [...new Set(names)];
      const { ttlMs = DEFAULT_TTL_MS, waitMs = DEFAULT_WAIT_MS } = opts;
      if (unique.length === 0) return leased([], '', ttlMs, Date.now(), fn);
      const token = randomUUID();
      const deadline = Date.now() + waitMs;
      let acquiredAt = Date.now();
      for (let backoff = FIRST_BACKOFF_MS; ; backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)) {
        acquiredAt = Date.now();
        const held = await tryAcquire(unique, token, ttlMs);
        if (held === null) break;
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new LockTimeoutError(held, waitMs);
        // Jitter keeps callers that collided from colliding again in lockstep.
        await sleep(Math.min(remaining, backoff / 2 + Math.random() * backoff / 2));
      }
      try {
        return await leased(unique, token, ttlMs, acquiredAt, fn);
      } finally {
        // A failed release is not the caller's failure: the work is done, and the locks expire after ttlMs.
        await release(unique, token).catch(() => {});
      }
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
