import type { AlertCandidate } from '../alerts/model.js';
import type { Homes } from '../reference/index.js';
import { openWorkerQueue, startQueueWorker, type QueueWorkerSettings } from '../queues/index.js';
import { workerConnection } from '../redis/connection.js';
import type { Locks } from '../redis/lock.js';
import type { Storage } from '../storage/index.js';
import { breachSla, slaMissed } from './lifecycle.js';
import { createTicketOpener } from './opening.js';
import type { HotlineQueue } from './queue.js';
import { slaAlert, type HotlineSettings } from './sla.js';
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

// Open jobs wait for their group (`createTicketOpener`): as many run at once as a group should hold. A timer
// job reads and writes one ticket.
const CONCURRENCY = 64;

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

  const opener = createTicketOpener({ store, queue, homes: options.homes, settings, counters, redisPrefix: options.redisPrefix, log });

  const worker = startQueueWorker('hotline', async (job) => {
    const data = job.data;
    switch (data.kind) {
      case 'open':
        // The job's creation time, so a retry computes the same ticket and the same timers.
        return opener.open({ draft: data.draft, createdAt: new Date(job.timestamp) });
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
