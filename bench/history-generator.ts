/**
 * The rules benchmark's history, generated in a child process so that the
 * simulation and `eventRows` use the second core while the benchmark inserts
 * the previous batch (storage.insert serialises rows to JSON on the calling
 * thread). A process, not a worker thread: rows.ts loads the embedded
 * engine's native module, which must not load into a second thread of the
 * process running it. Sends rows in batches, one batch ahead of the inserts;
 * keeps the last events for the live phases and writes them to a file
 * (NDJSON, in event-time order).
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { createWorld } from '../src/demo/index.js';
import type { Event, EventInput } from '../src/ingest/schema.js';
import { eventRows } from '../src/storage/tables/events.js';
import type { Row } from '../src/storage/index.js';
import { streamEvents } from './history.js';

export interface HistoryJob {
  seed: number;
  perRegion: number;
  from: number;
  to: number;
  visitsPerDay: number;
  /** Events from here on are candidates for the live phases... */
  tailFrom: number;
  /** ...of which the last `liveWanted` are kept for them. */
  liveWanted: number;
  liveFile: string;
  batchRows: number;
}

export type FromHistoryWorker =
  | { type: 'rows'; rows: Row[] }
  | { type: 'done'; events: number; liveEvents: number; firstLiveAt: number | null };

const send = (message: FromHistoryWorker) => new Promise<void>((resolve, reject) => process.send!(message, undefined, {}, (err) => (err ? reject(err) : resolve())));

async function run(job: HistoryJob): Promise<void> {
  const world = createWorld({ seed: job.seed, enterprisesPerRegion: job.perRegion });
  let acked = Promise.resolve();
  let rows: Row[] = [];
  let events = 0;
  // One batch with the main thread at a time: this thread builds the next while that one is inserted.
  const post = async () => {
    await acked;
    acked = once(process, 'message').then(() => undefined);
    const batch = rows;
    rows = [];
    await send({ type: 'rows', rows: batch });
  };
  const add = (event: EventInput) => {
    for (const row of eventRows(event as Event, event.occurred_at)) rows.push(row);
    events++;
  };

  const tail: EventInput[] = [];
  for (const day of streamEvents(world, { seed: job.seed, from: new Date(job.from), to: new Date(job.to), visitsPerDay: job.visitsPerDay, idPrefix: 'hist' })) {
    for (const event of day) {
      if (Date.parse(event.occurred_at) >= job.tailFrom) tail.push(event);
      else add(event);
    }
    if (rows.length >= job.batchRows) await post();
  }
  const split = Math.max(0, tail.length - job.liveWanted);
  for (let i = 0; i < split; i++) {
    add(tail[i]!);
    if (rows.length >= job.batchRows) await post();
  }
  if (rows.length > 0) await post();
  await acked;

  const live = tail.slice(split);
  const out = createWriteStream(job.liveFile);
  for (const event of live) if (!out.write(`${JSON.stringify(event)}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
  await send({ type: 'done', events, liveEvents: live.length, firstLiveAt: live.length > 0 ? Date.parse(live[0]!.occurred_at) : null });
  process.disconnect();
}

run(JSON.parse(process.argv[2]!) as HistoryJob).catch((err) => {
  console.error(err);
  process.exit(1);
});
