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
 * Key of a remembered id: `<prefix>:seen:{<bucket>}:<id>`. The bucket is a
 * Redis Cluster hash tag, so one batch check is one MGET per bucket (a
 * command's keys must share a slot), and the ids still spread over 256 slots,
 * hence over every node of a cluster: this is the memory-heavy role.
 */
export function seenKey(prefix: string, id: string): string {
  return `${prefix}:seen:{${bucketOf(id)}}:${id}`;
}

const BUCKETS = 256;

// FNV-1a: cheap and stable. Changing it only forgets remembered ids, which storage folds anyway.
function bucketOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % BUCKETS;
}

export function createSeenIds(redis: Redis, prefix: string, ttlSeconds: number): SeenIds {
  const key = (id: string) => seenKey(prefix, id);
  return {
    async filterSeen(ids) {
      if (ids.length === 0) return [];
      // One MGET per bucket, all in one round trip; answers go back to the ids' positions.
      const byBucket = new Map<number, number[]>();
      ids.forEach((id, i) => {
        const bucket = bucketOf(id);
        const group = byBucket.get(bucket);
        if (group) group.push(i);
        else byBucket.set(bucket, [i]);
      });
      const groups = [...byBucket.values()];
      const pipeline = redis.pipeline();
      for (const group of groups) pipeline.mget(group.map((i) => key(ids[i]!)));
      const replies = (await pipeline.exec()) ?? [];
      const seen = new Array<boolean>(ids.length).fill(false);
      groups.forEach((group, g) => {
        const [err, values] = replies[g] ?? [new Error('no reply')];
        if (err) throw err;
        group.forEach((i, j) => (seen[i] = (values as Array<string | null>)[j] !== null));
      });
      return seen;
    },
    async remember(ids) {
      if (ids.length === 0) return;
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.set(key(id), '1', 'EX', ttlSeconds);
      await pipeline.exec();
    },
  };
}
