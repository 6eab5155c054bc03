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

export function createSeenIds(redis: Redis, prefix: string, ttlSeconds: number): SeenIds {
  const key = (id: string) => `${prefix}:seen:${id}`;
  return {
    async filterSeen(ids) {
      if (ids.length === 0) return [];
      const values = await redis.mget(ids.map(key));
      return values.map((v) => v !== null);
    },
    async remember(ids) {
      if (ids.length === 0) return;
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.set(key(id), '1', 'EX', ttlSeconds);
      await pipeline.exec();
    },
  };
}
