import type { Redis } from 'ioredis';
import { createCountedMemory, type Counted } from '../redis/counted-memory.js';
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
 * - a company whose memory is at the count in Redis, and covers every span asked for, is answered from memory;
 * - anything else (never seen, a batch another process stored, a span not covered, memory forgotten) is read
 *   from ClickHouse, once for all of a chunk's companies: every type, from a little before the earliest span
 *   asked for to the end of time. It is remembered at the count read before that query, so it holds every row
 *   counted.
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

interface History {
  /** By (occurred_at, id): the table's key within a company, so a row stored twice is held once, as FINAL reads it. */
  events: Map<string, EngineEvent>;
  /** The event-time span memory holds every stored row of, of every type. */
  covered: { from: number; to: number };
}

export interface HistoriesOptions {
  storage: Storage;
  /** The coordination Redis, which holds the counts. */
  redis: Redis;
  prefix: string;
  /** Events remembered across all companies; past it the companies used least recently are forgotten. 0: none. */
  maxEvents: number;
  metrics: Metrics;
}

// A read from storage reaches this far before the span asked for, so that events a little late (whose spans start a
// little earlier) are still answered from memory; and to the end of time, so that later events are too.
const READ_BEFORE_MS = 2 * 86_400_000;
const READ_UNTIL = Date.parse('2100-01-01T00:00:00Z');

export function createHistories(options: HistoriesOptions): Histories {
  const { metrics } = options;
  const memory = createCountedMemory<History>({
    redis: options.redis, key: historyVersionsKey(options.prefix), maxSize: options.maxEvents, sizeOf: (h) => h.events.size,
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
        if (own && covers(own, spans)) {
          const events = eventsIn(own, spans);
          if (events.length > 0) byCompany.set(id, events);
        } else {
          missing.push(id);
        }
      }
      metrics.historyReads.inc({ from: 'memory' }, enterpriseIds.length - missing.length);
      if (missing.length === 0) return byCompany;
      metrics.historyReads.inc({ from: 'storage' }, missing.length);
      const wide = widen(spans);
      const read = await readEvents(options.storage, missing, new Map([[null, wide]]));
      for (const id of missing) {
        const own = remembered(counted, id, read.get(id) ?? [], wide);
        const events = eventsIn(own, spans);
        if (events.length > 0) byCompany.set(id, events);
      }
      return byCompany;
    },
  };
}

/**
 * What was read from storage at the count read. Memory still at that count holds everything counted, so the span
 * read is added to what it covers; otherwise it is replaced.
 */
function remembered(counted: Counted<History>, id: string, events: readonly EngineEvent[], span: { from: number; to: number }): History {
  const version = counted.version(id);
  const held = counted.held(id);
  let own: History;
  if (held && held.version === version && held.value.covered.from <= span.to && span.from <= held.value.covered.to) {
    own = held.value;
    own.covered = { from: Math.min(own.covered.from, span.from), to: Math.max(own.covered.to, span.to) };
  } else {
    own = { events: new Map(), covered: span };
  }
  add(own, events);
  counted.remember(id, version, own);
  return own;
}

function add(own: History, events: readonly EngineEvent[]) {
  for (const event of events) own.events.set(`${event.occurred_at}\u0000${event.id}`, event);
}

function covers(own: History, spans: Spans): boolean {
  for (const span of spans.values()) {
    if (span.from < own.covered.from || own.covered.to < span.to) return false;
  }
  return true;
}

/** What the query would return for these spans: each event whose type's span (or the any-type span) holds its time. */
function eventsIn(own: History, spans: Spans): EngineEvent[] {
  const any = spans.get(null);
  const within = (t: number, span: { from: number; to: number } | undefined) => span !== undefined && clampToStored(span.from) <= t && t <= clampToStored(span.to);
  const out: EngineEvent[] = [];
  for (const event of own.events.values()) {
    if (within(event.occurred_at, spans.get(event.type)) || within(event.occurred_at, any)) out.push(event);
  }
  return out.sort(byTime);
}

function widen(spans: Spans): { from: number; to: number } {
  let from = Infinity;
  let to = READ_UNTIL;
  for (const span of spans.values()) {
    from = Math.min(from, span.from);
    to = Math.max(to, span.to);
  }
  return { from: from - READ_BEFORE_MS, to };
}
