import type { Job } from 'bullmq';
import type { AlertCandidate } from '../alerts/model.js';
import type { Homes } from '../reference/index.js';
import { openWorkerQueue, startQueueWorker, type HotlineJob, type QueueWorkerSettings } from '../queues/index.js';
import { workerConnection } from '../redis/connection.js';
import type { Locks } from '../redis/lock.js';
import type { Storage } from '../storage/index.js';
import { calendarDate } from '../calendar/index.js';
import { breachSla, openTicket, slaMissed } from './lifecycle.js';
import { draftTicketId, ticketNumber } from './model.js';
import { scheduleSla, type HotlineQueue } from './queue.js';
import { deadlines, slaAlert, type HotlineSettings } from './sla.js';
import { createTicketStore } from './store.js';

export interface HotlineWorkerOptions extends QueueWorkerSettings {
  storage: Storage;
  locks: Locks;
  /** Where companies are at home: a ticket is filed under its company's region. */
  homes: Pick<Homes, 'regions'>;
  settings: HotlineSettings;
  /** Raises (or leaves as it is) a system alert on the feed; must be idempotent, since timers retry. */
  raiseAlert: (candidate: AlertCandidate) => Promise<void>;
}

export interface HotlineWorker {
  /** Where complaints and alerts are queued as tickets. */
  queue: HotlineQueue;
  close(timeoutMs: number): Promise<void>;
}

// Each job is one ticket's read and write; more at once only contend for ClickHouse.
const CONCURRENCY = 8;

/**
 * Opens tickets and runs their timers. Every job is safe to run twice: an
 * existing ticket is not opened again, a deadline already recorded as missed
 * (or met, or replaced by a reopen) does nothing, and a claim renewed since
 * its timer was set stays.
 */
export function startHotlineWorker(options: HotlineWorkerOptions): HotlineWorker {
  const { log, settings } = options;
  const store = createTicketStore(options.storage, options.locks);
  // Its own connection to the hotline queue: ticket timers, and the complaints the store worker hands over.
  const timers = openWorkerQueue('hotline', options);
  const { queue } = timers;
  // The day counters of ticket numbers live beside the queue, on the queues' Redis (persistent, never evicted).
  const counters = workerConnection(options.redisUrl);
  counters.on('error', (err) => options.log.debug({ err: err.message }, 'ticket-number redis error'));

  /**
   * The next 12345-YYYYMMDD-NNNN of the ticket's Shanghai day: a Redis counter per day (INCR: one number per call,
   * across every worker), started from the highest number stored that day when the key is new (after a restore,
   * say). A job that fails after taking a number leaves a gap, never a repeat.
   */
  async function nextNumber(createdAt: Date): Promise<string> {
    const day = calendarDate(createdAt.getTime());
    const key = `${options.redisPrefix}:ticket-number:${day}`;
    const redis = counters;
    if (!(await redis.exists(key))) await redis.set(key, await store.lastSerial(day), 'EX', 3 * 86_400, 'NX');
    return ticketNumber(day, await redis.incr(key));
  }

  async function open(job: Job<HotlineJob>, draft: Extract<HotlineJob, { kind: 'open' }>['draft']): Promise<void> {
    const id = draftTicketId(draft);
    await store.locked(id, async (lease) => {
      if (await store.stored(id)) return;
      // The job's creation time, so a retry computes the same ticket and the same timers.
      const createdAt = new Date(job.timestamp);
      // Filed where the company is at home, which the hotline of that region works: a complaint sent
      // with its city's code (or another district's) still reaches the company's own queue.
      const home = (await options.homes.regions('enterprise', [draft.enterprise_id])).get(draft.enterprise_id);
      const due = deadlines(createdAt, settings);
      // Timers first: if the save fails, the retry schedules the same jobs again, which adds nothing.
      await scheduleSla(queue, id, 'accept', due.accept_due_at.toISOString());
      await scheduleSla(queue, id, 'resolve', due.resolve_due_at.toISOString());
      const number = await nextNumber(createdAt);
      lease.ensure();
      await store.save([openTicket({ ...draft, region: home ?? draft.region }, createdAt, due, number)]);
      log.info({ ticket: id, source: draft.source, source_id: draft.source_id }, 'ticket opened');
    });
  }

  const worker = startQueueWorker('hotline', async (job) => {
    const data = job.data;
    switch (data.kind) {
      case 'open':
        return open(job, data.draft);
      case 'sla':
        // The alert is raised before the breach is saved: raising is idempotent, so a retry after a failure in between still ends with both.
        await store.act(data.ticket_id, (ticket, now) => (slaMissed(ticket, data.sla, data.due_at) ? breachSla(ticket, data.sla, now) : null),
          async ({ ticket }) => {
            await options.raiseAlert(slaAlert(ticket, data.sla));
            options.metrics.slaBreaches.inc({ sla: data.sla });
            log.info({ ticket: ticket.id, sla: data.sla, due_at: data.due_at }, 'ticket SLA breached');
          });
        return;
      case 'claim-lapse':
        // Nothing to change beyond what act does anyway: record the release if the claim really lapsed.
        await store.act(data.ticket_id, () => null);
        return;
    }
  }, {
    ...options, concurrency: CONCURRENCY,
    closing: async () => {
      await timers.close();
      counters.disconnect();
    },
  });

  return { queue, close: worker.close };
}
