import type { Queue } from 'bullmq';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/index.js';
import { createBatcher } from '../batcher.js';
import type { Envelope } from '../queues/index.js';
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
  /** Queues the events a token of this jurisdiction sent: ids are remembered per sender (`senderKey`). */
  accept(events: readonly Event[], jurisdiction: string): Promise<Acceptance>;
  /** Queues whatever is still being coalesced; used at shutdown. */
  flush(): Promise<void>;
}

/**
 * An event id's key among the ids remembered: the id within its sender, which is the
 * platform (`source`) inside the jurisdiction of the token that sent it. A token
 * writes inside its own jurisdiction only, so no platform of another region can
 * take an id before its owner sends it (and have the real event answered
 * "duplicate"); a platform retrying with a new token of the same jurisdiction
 * still meets its own ids. The source is URI-encoded so that `:` separates the
 * three parts unambiguously (a jurisdiction is digits; the id comes last).
 */
export const senderKey = (jurisdiction: string, event: Pick<Event, 'source' | 'id'>) =>
  `${jurisdiction}:${encodeURIComponent(event.source)}:${event.id}`;

/**
 * Queues validated events. Requests that arrive within a few milliseconds of
 * each other share one envelope job and one round of id checks, so a burst
 * of single-event posts costs Redis three commands, not three per request.
 * Resolves only once the envelope is in Redis.
 */
export function createEventAcceptor(options: {
  queue: Queue<Envelope>;
  seen: SeenIds;
  coalesceMs: number;
  maxEventsPerJob: number;
  log: Logger;
  metrics: Metrics;
}): EventAcceptor {
  const envelopes = createBatcher<{ event: Event; key: string }, boolean>({
    maxItems: options.maxEventsPerJob,
    maxWaitMs: options.coalesceMs,
    write: async (items) => {
      const seenBefore = await options.seen.filterSeen(items.map((i) => i.key));
      // Two requests racing with one id: the first in the envelope wins.
      const inEnvelope = new Set<string>();
      const queued = items.map(({ key }, i) => {
        if (seenBefore[i] || inEnvelope.has(key)) return false;
        inEnvelope.add(key);
        return true;
      });
      const fresh = items.filter((_, i) => queued[i]);
      if (fresh.length > 0) await options.queue.add('envelope', { received_at: new Date().toISOString(), events: fresh.map((i) => i.event) });
      await options.seen.remember(fresh.map((i) => i.key)).catch((err: Error) =>
        options.log.warn({ err: err.message }, 'could not mark ids as seen; a retry will be folded by storage'));
      return queued;
    },
  });

  return {
    async accept(events, jurisdiction) {
      const queued = await envelopes.add(events.map((event) => ({ event, key: senderKey(jurisdiction, event) })));
      countByType(events, queued, options.metrics);
      const ids = events.filter((_, i) => queued[i]).map((e) => e.id);
      const duplicate_ids = events.filter((_, i) => !queued[i]).map((e) => e.id);
      return { accepted: ids.length, duplicates: duplicate_ids.length, ids, duplicate_ids };
    },
    flush: () => envelopes.flush(),
  };
}


function countByType(events: readonly Event[], queued: readonly boolean[], metrics: Metrics): void {
  const counts = new Map<string, { accepted: number; duplicate: number }>();
  events.forEach((event, i) => {
    const count = counts.get(event.type) ?? { accepted: 0, duplicate: 0 };
    if (queued[i]) count.accepted++;
    else count.duplicate++;
    counts.set(event.type, count);
  });
  for (const [type, { accepted, duplicate }] of counts) {
    if (accepted > 0) metrics.eventsAccepted.inc({ type }, accepted);
    if (duplicate > 0) metrics.eventsDuplicate.inc({ type }, duplicate);
  }
}
