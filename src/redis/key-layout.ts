import type { Redis } from 'ioredis';
import { feedStream } from '../feed/journal.js';
import type { Logger } from '../log.js';
import { bullPrefix, QUEUES } from '../queues/index.js';
import { workerConnection } from './connection.js';
import { createLocks } from './lock.js';
import { openRoleConnections, type RedisUrls } from './roles.js';

/**
 * Upgrades keys written before Qingjian's keys carried Redis Cluster hash tags
 * (0.1.0 and before): `qj:bull:store-events:*` becomes `qj:bull:{store-events}:*`,
 * `qj:feed` becomes `qj:{feed}`. Without this, queued jobs (and the days-ahead
 * hotline and escalation timers among them) and the feed's history would be
 * stranded under the old names. Remembered event ids are not moved: forgetting
 * them only lets storage fold a retry, and they expire within DEDUP_TTL_S.
 *
 * Every process runs this at start, before it touches a queue, one at a time
 * (under a lock); a marker key per role instance makes later starts skip the
 * scan. Processes of the old version must be stopped first: one still running
 * would write under the old names again.
 */
export interface Rename {
  /** SCAN MATCH pattern (or an exact key) of old keys. */
  pattern: string;
  to(oldKey: string): string;
}

/** Old key → new key for every queue: the queue name gains its hash tag. */
export function queueRenames(redisPrefix: string): Rename[] {
  const prefix = bullPrefix(redisPrefix);
  return Object.values(QUEUES).map(({ name, label }) => {
    const old = `${prefix}:${label}:`;
    return { pattern: `${old}*`, to: (key: string) => `${prefix}:${name}:${key.slice(old.length)}` };
  });
}

/** The feed stream and its markers move under the `{feed}` tag. */
export function feedRenames(redisPrefix: string): Rename[] {
  const old = `${redisPrefix}:feed`;
  const stream = feedStream(redisPrefix);
  return [
    { pattern: old, to: () => stream },
    { pattern: `${old}:sent:*`, to: (key: string) => `${stream}${key.slice(old.length)}` },
  ];
}

/** Renames what `renames` match on one instance, once: returns how many keys moved. */
export async function renameLegacyKeys(redis: Redis, marker: string, renames: readonly Rename[], log: Logger): Promise<number> {
  if ((await redis.exists(marker)) === 1) return 0;
  let moved = 0;
  for (const rename of renames) {
    for await (const keys of matching(redis, rename.pattern)) {
      for (const key of keys) {
        // NX: a key the new layout already has (a process of the new version ran against old keys) is never overwritten.
        if ((await redis.renamenx(key, rename.to(key))) === 1) moved++;
        else log.warn({ key, to: rename.to(key) }, 'key of the old layout left in place: its new name exists already');
      }
    }
  }
  await redis.set(marker, '1');
  return moved;
}

async function* matching(redis: Redis, pattern: string): AsyncGenerator<string[]> {
  if (!/[*?[]/.test(pattern)) {
    if ((await redis.exists(pattern)) === 1) yield [pattern];
    return;
  }
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) yield keys;
  } while (cursor !== '0');
}

/**
 * Upgrades the queues and feed instances of this deployment, one process at a
 * time. Its connections wait out a Redis that is still starting, like workers do.
 */
export async function upgradeKeyLayout(urls: RedisUrls, redisPrefix: string, log: Logger): Promise<void> {
  const redis = openRoleConnections(urls, workerConnection, ['coordination', 'queues', 'feed']);
  try {
    await createLocks(redis.coordination, redisPrefix).withLocks(['key-layout-upgrade'], async () => {
      const queues = await renameLegacyKeys(redis.queues, `${redisPrefix}:layout:queues`, queueRenames(redisPrefix), log);
      const feed = await renameLegacyKeys(redis.feed, `${redisPrefix}:layout:feed`, feedRenames(redisPrefix), log);
      if (queues + feed > 0) log.info({ queues, feed }, 'renamed keys of the old Redis layout (hash tags for Redis Cluster)');
    }, { ttlMs: 300_000, waitMs: 600_000 });
  } finally {
    redis.disconnect();
  }
}
