import type { Redis } from 'ioredis';

/**
 * Remembers which event ids were durably queued, so a retried request is
 * answered "duplicate" without queueing it again. Ids are marked only after
 * their envelope is in the queue: a crash in between makes a retry queue them
 * a second time, which storage folds (ReplacingMergeTree), never a loss.
 * After the TTL, storage alone keeps the event stored once.
 */
export interface SeenIds {
  filterSeen(ids: readonly string[]): Promise<boolean[]>;
  remember(ids: readonly string[]): Promise<void>;
}

/**
 * Key of a remembered id: `<prefix>:seen:{<bucket>}:<id>`, the id being scoped
 * to its sender by the caller (src/ingest/accept.ts `senderKey`). The bucket is a
 * Redis Cluster hash tag, so one batch check is one MGET per bucket (a
 * command's keys must share a slot), and the ids still spread over 256 slots,
 * hence over every node of a cluster: this is the memory-heavy role.
 */
export function seenKey(prefix: string, id: string): string {
  return `${prefix}:seen:{${bucketOf(id)}}:${id}`;
}

const BUCKETS = 256;

/**
 * Which of 256 Redis Cluster hash tags a key goes under. FNV-1a: cheap and stable. Changing it only
 * forgets remembered ids (storage folds a retry anyway) and the homes in Redis (src/reference/homes.ts:
 * read again from reference data, or registered again by the next event).
 */
export function bucketOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % BUCKETS;
}

export function createSeenIds(redis: Redis, prefix: string, ttlSeconds: number): SeenIds {
  const key = (id: string) => seenKey(prefix, id);
  return {
    async filterSeen(ids) {
      const values = await mgetByBucket(redis, ids.map((id) => ({ key: key(id), bucket: bucketOf(id) })));
      return values.map((value) => value !== null);
    },
    async remember(ids) {
      if (ids.length === 0) return;
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.set(key(id), '1', 'EX', ttlSeconds);
      await pipeline.exec();
    },
  };
}

/**
 * Reads keys spread over hash-tag buckets: one MGET per bucket (a command's keys must share a
 * slot), all in one round trip; the values come back in the keys' order.
 */
export async function mgetByBucket(redis: Redis, keys: ReadonlyArray<{ key: string; bucket: number }>): Promise<Array<string | null>> {
  if (keys.length === 0) return [];
  const byBucket = new Map<number, number[]>();
  keys.forEach(({ bucket }, i) => {
    const group = byBucket.get(bucket);
    if (group) group.push(i);
    else byBucket.set(bucket, [i]);
  });
  const groups = [...byBucket.values()];
  const pipeline = redis.pipeline();
  for (const group of groups) pipeline.mget(group.map((i) => keys[i]!.key));
  const replies = (await pipeline.exec()) ?? [];
  const values = new Array<string | null>(keys.length).fill(null);
  groups.forEach((group, g) => {
    const [err, found] = replies[g] ?? [new Error('no reply')];
    if (err) throw err;
    group.forEach((i, j) => (values[i] = (found as Array<string | null>)[j] ?? null));
  });
  return values;
}
