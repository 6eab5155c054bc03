/**
 * The service's store and evaluate queues as the benchmarks watch them: their counts, the evaluation backlog, and
 * when both have drained.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { bullPrefix, QUEUES } from '../src/queues/index.js';

export interface Counts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

export function queueWatch(redisUrl: string, redisPrefix: string) {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const prefix = bullPrefix(redisPrefix);
  const evaluate = new Queue(QUEUES.evaluate.name, { connection: redis, prefix });
  const store = new Queue(QUEUES.store.name, { connection: redis, prefix });
  const countsOf = async (queue: Queue): Promise<Counts> => {
    const c = await queue.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed');
    return { waiting: (c.wait ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0 };
  };
  const counts = async () => ({ evaluate: await countsOf(evaluate), store: await countsOf(store) });
  const backlog = (c: Awaited<ReturnType<typeof counts>>) => c.evaluate.waiting + c.evaluate.active;
  const busy = (c: Awaited<ReturnType<typeof counts>>) => backlog(c) + c.store.waiting + c.store.active > 0;
  return {
    counts,
    backlog,
    /** Samples the evaluate backlog every 500 ms until stopped; returns the largest seen. */
    watch() {
      let max = 0;
      let stopped = false;
      const loop = (async () => {
        while (!stopped) {
          max = Math.max(max, backlog(await counts()));
          await new Promise((r) => setTimeout(r, 500));
        }
      })();
      return async () => ((stopped = true), await loop, max);
    },
    /**
     * Resolves with the time both queues had nothing waiting or running, and no
     * delayed evaluation due within 5 s (companies handed back because another
     * evaluation held them come back after a short delay; decisions deferred
     * until a deadline hours away are not part of the drain).
     */
    async untilDrained(timeoutMs: number): Promise<number | null> {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (!busy(await counts())) {
          const [first] = await evaluate.getDelayed(0, 0);
          if (!first || first.timestamp + (first.opts.delay ?? 0) > Date.now() + 5_000) return Date.now();
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      return null;
    },
    async close() {
      await evaluate.close();
      await store.close();
      redis.disconnect();
    },
  };
}
