import type { Logger } from '../log.js';
import type { EventInput } from '../ingest/schema.js';
import { generateEvents } from './events.js';
import { liveEvents } from './live.js';
import { createWorld } from './world.js';

/**
 * `qingjian start --demo`: feeds a running service through its own HTTP API,
 * as a platform would — reference data, a month of history, then a live
 * stream paced by event time (some events late and out of order).
 */
export interface DemoTrafficOptions {
  url: string;
  seed: number;
  visitsPerDay: number;
  log: Logger;
}

const HISTORY_DAYS = 30;
const BATCH = 2_000;

export async function startDemoTraffic(options: DemoTrafficOptions): Promise<() => Promise<void>> {
  const { url, seed, log } = options;
  const world = createWorld({ seed });
  await send(url, 'PUT', '/v1/agencies', world.agencies);
  for (let i = 0; i < world.enterprises.length; i += BATCH) {
    await send(url, 'PUT', '/v1/enterprises', world.enterprises.slice(i, i + BATCH));
  }
  const now = new Date();
  const history = generateEvents(world, { seed, from: new Date(now.getTime() - HISTORY_DAYS * 86_400_000), to: now, idPrefix: `demo-${seed}` });
  for (let i = 0; i < history.length; i += BATCH) await send(url, 'POST', '/v1/events', history.slice(i, i + BATCH));
  log.info({ enterprises: world.enterprises.length, agencies: world.agencies.length, history: history.length }, 'demo world loaded');

  let running = true;
  const live = runLive(options, world, () => running);
  return async () => {
    running = false;
    await live;
  };
}

async function runLive(options: DemoTrafficOptions, world: ReturnType<typeof createWorld>, running: () => boolean) {
  const stream = liveEvents(world, { seed: options.seed, now: () => new Date(), visitsPerDay: options.visitsPerDay });
  let next: EventInput = stream.next().value;
  let sent = 0;
  while (running()) {
    const due: EventInput[] = [];
    while (Date.parse(next.occurred_at) <= Date.now() && due.length < BATCH) {
      due.push(next);
      next = stream.next().value;
    }
    if (due.length > 0) {
      await send(options.url, 'POST', '/v1/events', due).catch((err: Error) =>
        options.log.warn({ err: err.message }, 'demo post failed; the events are skipped'));
      sent += due.length;
      if (sent % 100 < due.length) options.log.info({ sent }, 'demo live events sent');
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

async function send(url: string, method: 'PUT' | 'POST', path: string, body: unknown[]): Promise<void> {
  const res = await fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
}
