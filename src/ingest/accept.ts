import type { Queue } from 'bullmq';
import type { Logger } from '../log.js';
import { createBatcher } from '../pipeline/batcher.js';
import type { Envelope } from '../pipeline/queues.js';
import type { Event } from './schema.js';
import type { SeenIds } from './seen-ids.js';

export interface Acceptance {
  accepted: number;
  duplicates: number;
  /** Ids of the events queued by this request, in request order. */
  ids: string[];
  /** Ids already accepted earlier (or twice in this request). */
  duplicate_ids: string[];
}

export interface EventAcceptor {
  accept(events: readonly Event[]): Promise<Acceptance>;
  /** Queues whatever is still being coalesced; used at shutdown. */
  flush(): Promise<void>;
}

/**
 * Queues validated events. Requests that arrive within a few milliseconds of
 * each other share one envelope job, so a burst of single-event posts costs
 * Redis one job, not hundreds. Resolves only once the envelope is in Redis.
 */
export function createEventAcceptor(options: {
  queue: Queue<Envelope>;
  seen: SeenIds;
  coalesceMs: number;
  maxEventsPerJob: number;
  log: Logger;
}): EventAcceptor {
  const envelopes = createBatcher<Event>({
    maxItems: options.maxEventsPerJob,
    maxWaitMs: options.coalesceMs,
    write: async (events) => {
      await options.queue.add('envelope', { received_at: new Date().toISOString(), events });
    },
  });

  return {
    async accept(events) {
      const firstOfId = new Map<string, Event>();
      for (const e of events) if (!firstOfId.has(e.id)) firstOfId.set(e.id, e);
      const unique = [...firstOfId.values()];
      const seenBefore = await options.seen.filterSeen(unique.map((e) => e.id));
      const fresh = unique.filter((_, i) => !seenBefore[i]);

      if (fresh.length > 0) await envelopes.add(fresh);
      const ids = fresh.map((e) => e.id);
      await options.seen.remember(ids).catch((err: Error) =>
        options.log.warn({ err: err.message }, 'could not mark ids as seen; a retry will be folded by storage'));

      const duplicate_ids = duplicatesOf(events, new Set(ids));
      return { accepted: ids.length, duplicates: duplicate_ids.length, ids, duplicate_ids };
    },
    flush: () => envelopes.flush(),
  };
}

/** Every item not queued by this request: seen before, or a repeat within it. */
function duplicatesOf(events: readonly Event[], queued: Set<string>): string[] {
  const counted = new Set<string>();
  const duplicates: string[] = [];
  for (const { id } of events) {
    if (queued.has(id) && !counted.has(id)) counted.add(id);
    else duplicates.push(id);
  }
  return duplicates;
}
