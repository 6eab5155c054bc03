import type { Worker } from 'bullmq';
import type { Logger } from '../log.js';

/**
 * `worker.close()` waits for active jobs with no limit of its own. Past the
 * timeout, unfinished jobs keep their lock and return to the queue when it
 * expires, so nothing is lost; the forced close is not awaited either, since
 * with Redis gone it would wait for ever.
 */
export async function closeWorker(worker: Worker, timeoutMs: number, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const finished = await Promise.race([
    worker.close().then(() => true),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (!finished) {
    log.warn({ worker: worker.name, timeoutMs }, 'worker did not finish in time; forcing close');
    void worker.close(true).catch(() => {});
  }
}
