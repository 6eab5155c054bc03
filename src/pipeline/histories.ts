import type { Redis } from 'ioredis';
import { createCountedMemory } from '../redis/counted-memory.js';
import type { Metrics } from '../metrics/index.js';
import { readEvents } from '../rules/context.js';
import { byTime, type EngineEvent } from '../rules/events.js';
import { clampToStored, type Spans } from '../storage/tables/events.js';
import type { Storage } from '../storage/index.js';

/**
 * Each company's events as the engine reads them, kept in memory by the process that evaluates, so that an
 * evaluation does not read its companies' history from ClickHouse again (the embedded engine runs bound queries
 * one at a time per process: every read waits for every other).
 *
 * Whether memory is complete is decided by a count in Redis (src/redis/counted-memory.ts). The store worker counts
 * each company's batch after its rows are inserted and before the evaluation job is queued (`stored`), and adds
 * the rows to its own process's memory of the company when that memory was at the count before. An evaluation
 * reads its companies' counts before anything else, under their locks:
 * - a company whose memory is at the count in Redis is answered from memory, whatever span is asked for: memory
 *   holds a company's whole history;
 * - anything else (never seen, a batch another process stored, memory forgotten) is read from ClickHouse, once
 *   for all of a chunk's companies: their whole history. It is remembered at the count read before that query, so
 *   it holds every row counted.
 * Jobs do not carry the rows: the embedded engine (where reads queue) runs in one process, which stored them;
 * processes sharing a ClickHouse server read what another stored, in parallel.
 * Counting after the insert means a process may hold rows not counted yet, never miss rows counted: an evaluation
 * that does not see a batch stored a moment ago sees it as if it had arrived a moment later, and that batch's own
 * job decides again everything it can change.
 */
export interface Histories {
  /** After an insert: counts each company's batch of rows, and remembers them. */
  stored(byCompany: ReadonlyMap<string, readonly EngineEvent[]>): Promise<void>;
  /** The events of these companies in these spans, as `readEvents` reads them. */
  read(enterpriseIds: readonly string[], spans: Spans): Promise<Map<string, EngineEvent[]>>;
}

export const historyVersionsKey = (prefix: string) => `${prefix}:history:versions`;

/**
 * A company's whole history, one entry per (occurred_at, id), the table's key within a company: a row stored twice
 * is held once, as FINAL reads it, and an id sent again at another time is a second row. Keyed by the id alone
 * (the event's own string) unless the id is held at another time: a key made of both for every event cost two
 * strings per event, about 17 MB of the `bench:rules` heap.
 */
type History = Map<string, EngineEvent>;

export interface HistoriesOptions {
  storage: Storage;
  /** The coordination Redis, which holds the counts. */
  redis: Redis;
  prefix: string;
  /** Events remembered across all companies; past it the companies used least recently are forgotten. 0: none. */
  maxEvents: number;
  metrics: Metrics;
}

// A read from storage takes a company's whole history, every type and every time the table can hold: then any span
// an evaluation asks for is in memory, however late its events (the rules look back years: the longest spans are
// about as long as any history kept). Events are stored from 2000 to 2100 (storage/tables/events.ts).
export const WHOLE_HISTORY: Spans = new Map([[null, { from: clampToStored(-Infinity), to: clampToStored(Infinity) }]]);

export function createHistories(options: HistoriesOptions): Histories {
  const { metrics } = options;
  const memory = createCountedMemory<History>({
    // A company without events weighs one, so that memory of many such companies stays bounded too.
    redis: options.redis, key: historyVersionsKey(options.prefix), maxSize: options.maxEvents, sizeOf: (h) => Math.max(1, h.size),
  });

  return {
    async stored(byCompany) {
      const counted = await memory.count([...byCompany.keys()]);
      for (const [id, events] of byCompany) {
        const held = counted.held(id);
        // Memory one count behind held every row before this batch; further behind, it missed another's.
        if (!held || held.version !== counted.version(id) - 1) continue;
        add(held.value, events);
        counted.remember(id, counted.version(id), held.value);
      }
    },

    async read(enterpriseIds, spans) {
      if (options.maxEvents === 0) return readEvents(options.storage, enterpriseIds, spans);
      const byCompany = new Map<string, EngineEvent[]>();
      if (enterpriseIds.length === 0 || spans.size === 0) return byCompany;
      const counted = await memory.read(enterpriseIds);
      const missing: string[] = [];
      for (const id of enterpriseIds) {
        const own = counted.current(id);
        if (own) {
          const events = eventsIn(own, spans);
          if (events.length > 0) byCompany.set(id, events);
        } else {
          missing.push(id);
        }
      }
      metrics.historyReads.inc({ from: 'memory' }, enterpriseIds.length - missing.length);
      if (missing.length === 0) return byCompany;
      metrics.historyReads.inc({ from: 'storage' }, missing.length);
      const read = await readEvents(options.storage, missing, WHOLE_HISTORY);
      for (const id of missing) {
        // Read at the count read before the query: every row counted is in it.
        const own: History = new Map();
        add(own, read.get(id) ?? []);
        counted.remember(id, counted.version(id), own);
        const events = eventsIn(own, spans);
        if (events.length > 0) byCompany.set(id, events);
      }
      return byCompany;
    },
  };
}

function add(own: History, events: readonly EngineEvent[]) {
  for (const event of events) {
    const held = own.get(event.id);
    own.set(held === undefined || held.occurred_at === event.occurred_at ? event.id : `${event.occurred_at}\u0000${event.id}`, event);
  }
}

/** What the query would return for these spans: each event whose type's span (or the any-type span) holds its time. */
function eventsIn(own: History, spans: Spans): EngineEvent[] {
  const any = spans.get(null);
  const within = (t: number, span: { from: number; to: number } | undefined) => span !== undefined && clampToStored(span.from) <= t && t <= clampToStored(span.to);
  const out: EngineEvent[] = [];
  for (const event of own.values()) {
    if (within(event.occurred_at, spans.get(event.type)) || within(event.occurred_at, any)) out.push(event);
  }
  return out.sort(byTime);
}
