import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { calendarDate } from '../calendar/index.js';
import { createBatcher } from '../batcher.js';
import type { Homes } from '../reference/index.js';
import { openTicket } from './lifecycle.js';
import { draftTicketId, ticketNumber, type TicketDraft } from './model.js';
import { scheduleSlas, type HotlineQueue } from './queue.js';
import { deadlines, type HotlineSettings } from './sla.js';
import type { TicketStore } from './store.js';

/** A ticket to open: what its source knows, and when it was asked for (the job's creation, so a retry is the same ticket). */
export interface Opening {
  draft: TicketDraft;
  createdAt: Date;
}

export interface TicketOpenerOptions {
  store: Pick<TicketStore, 'lockedAll' | 'storedIds' | 'save' | 'lastSerial'>;
  /** Where the SLA timers go. */
  queue: HotlineQueue;
  /** Where companies are at home: a ticket is filed under its company's region. */
  homes: Pick<Homes, 'regions'>;
  settings: HotlineSettings;
  /** Where the day counters of ticket numbers live: beside the queue, on the queues' Redis (persistent, never evicted). */
  counters: Redis;
  redisPrefix: string;
  log: Logger;
}

// Open jobs running at once are gathered for this long: under load a group is as large as the worker's concurrency.
const GROUP_WAIT_MS = 20;
const MAX_GROUP = 200;

/**
 * Opens tickets in groups: the open jobs running at once share one set of locks, one read of which tickets exist,
 * one write of the SLA timers, one counter step per day and one insert into each table. Opening a ticket one by
 * one took three ClickHouse calls each, about three quarters of the engine's calls when alerts were routed to the
 * hotline under load. A group that fails is opened again ticket by ticket, so that one ticket that cannot be opened
 * does not hold back the others; its job alone fails and is retried.
 */
export function createTicketOpener(options: TicketOpenerOptions): { open(opening: Opening): Promise<void> } {
  const { store, log } = options;

  async function openTogether(openings: readonly Opening[]): Promise<void> {
    const byId = new Map<string, Opening>();
    for (const opening of openings) {
      const id = draftTicketId(opening.draft);
      if (!byId.has(id)) byId.set(id, opening);
    }
    await store.lockedAll([...byId.keys()], async (lease) => {
      const stored = await store.storedIds([...byId.keys()]);
      const fresh = [...byId].filter(([id]) => !stored.has(id)).map(([id, o]) => ({ id, ...o, due: deadlines(o.createdAt, options.settings) }));
      if (fresh.length === 0) return;
      // Filed where the company is at home, which the hotline of that region works: a complaint sent
      // with its city's code (or another district's) still reaches the company's own queue.
      const homes = await options.homes.regions('enterprise', fresh.map((t) => t.draft.enterprise_id));
      // Timers first: if the save fails, the retry schedules the same jobs again, which adds nothing.
      await scheduleSlas(options.queue, fresh.flatMap(({ id, due }) => [
        { ticketId: id, sla: 'accept' as const, dueAt: due.accept_due_at.toISOString() },
        { ticketId: id, sla: 'resolve' as const, dueAt: due.resolve_due_at.toISOString() },
      ]));
      const numbers = await numbered(fresh.map((t) => t.createdAt));
      lease.ensure();
      await store.save(fresh.map((t, i) => openTicket({ ...t.draft, region: homes.get(t.draft.enterprise_id) ?? t.draft.region }, t.createdAt, t.due, numbers[i])));
      for (const { id, draft } of fresh) log.info({ ticket: id, source: draft.source, source_id: draft.source_id }, 'ticket opened');
    });
  }

  /**
   * Consecutive serials of a Shanghai day: a Redis counter per day (INCRBY: numbers no other call gets, across
   * every worker), started from the highest number stored that day when the key is new (after a restore, say).
   * A group that fails after taking numbers leaves a gap, never a repeat.
   */
  async function serials(day: string, count: number): Promise<number> {
    const key = `${options.redisPrefix}:ticket-number:${day}`;
    if (!(await options.counters.exists(key))) await options.counters.set(key, await store.lastSerial(day), 'EX', 3 * 86_400, 'NX');
    return (await options.counters.incrby(key, count)) - count + 1;
  }

  /** A number for each ticket, in the order given: 12345-YYYYMMDD-NNNN of its Shanghai day. */
  async function numbered(createdAt: readonly Date[]): Promise<string[]> {
    const days = createdAt.map((at) => calendarDate(at.getTime()));
    const counts = new Map<string, number>();
    for (const day of days) counts.set(day, (counts.get(day) ?? 0) + 1);
    const next = new Map<string, number>();
    for (const [day, count] of counts) next.set(day, await serials(day, count));
    return days.map((day) => {
      const serial = next.get(day)!;
      next.set(day, serial + 1);
      return ticketNumber(day, serial);
    });
  }

  const groups = createBatcher<Opening, Error | null>({
    maxItems: MAX_GROUP,
    maxWaitMs: GROUP_WAIT_MS,
    async write(openings) {
      try {
        await openTogether(openings);
        return openings.map(() => null);
      } catch (err) {
        if (openings.length === 1) return [asError(err)];
        log.warn({ err: asError(err).message, tickets: openings.length }, 'tickets not opened together; opening them one by one');
        return Promise.all(openings.map((opening) => openTogether([opening]).then(() => null, asError)));
      }
    },
  });

  return {
    async open(opening) {
      const [failure] = await groups.add([opening]);
      if (failure) throw failure;
    },
  };
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));
