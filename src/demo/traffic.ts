import type { Logger } from '../log.js';
import type { EventInput } from '../ingest/schema.js';
import { progress } from '../terminal/progress.js';
import { generateEvents } from './events.js';
import { liveEvents } from './live.js';
import { authorization, type DemoApi } from './api.js';
import { startDemoStaff } from './staff.js';
import { createWorld, type World } from './world.js';

/**
 * `qingjian start --demo` and `qingjian demo`: feeds a running service through
 * its own HTTP API, as a platform would — reference data, a month of history,
 * then a live stream paced by event time (some events late and out of order) —
 * while simulated staff work its alerts and tickets.
 */
export interface DemoTrafficOptions {
  api: DemoApi;
  seed: number;
  visitsPerDay: number;
  log: Logger;
  /** Pause between the staff's rounds (default: startDemoStaff's). */
  staffEveryMs?: number;
  /** A progress bar while the history loads (a person at a terminal). */
  showProgress?: boolean;
}

export const HISTORY_DAYS = 30;
const BATCH = 2_000;

/** The history the demo loads before going live: the `days` before `to`. `npm run demo:alerts` counts its alerts. */
export function demoHistory(world: World, options: { seed: number; to: Date; days?: number; followUpUntil?: Date }): EventInput[] {
  const { seed, to, days = HISTORY_DAYS, followUpUntil } = options;
  return generateEvents(world, { seed, from: new Date(to.getTime() - days * 86_400_000), to, idPrefix: `demo-${seed}`, followUpUntil });
}

export async function startDemoTraffic(options: DemoTrafficOptions): Promise<() => Promise<void>> {
  const { api, seed, log } = options;
  const world = createWorld({ seed });
  const history = demoHistory(world, { seed, to: new Date() });
  const bar = progress('演示历史 Demo history', history.length, options.showProgress ?? false);
  await loadDemoWorld(api, world, history, (sent) => bar.advance(sent));
  bar.done();
  log.info({ enterprises: world.enterprises.length, agencies: world.agencies.length, officers: world.officerRecords.length, history: history.length }, 'demo world loaded');

  let running = true;
  // No visits a day is the history alone: the live stream would never yield an event.
  const live = options.visitsPerDay > 0 ? runLive(options, world, () => running) : Promise.resolve();
  const stopStaff = startDemoStaff({ api, seed, log: log.child({ demo: 'staff' }), everyMs: options.staffEveryMs });
  return async () => {
    running = false;
    await Promise.all([live, stopStaff()]);
  };
}

/** Reference data first, so the events' companies, agencies and officers are known when they are evaluated. */
export async function loadDemoWorld(api: DemoApi, world: World, events: readonly EventInput[], onSent?: (events: number) => void): Promise<void> {
  await send(api, 'PUT', '/v1/agencies', world.agencies);
  // After their agencies, which place them.
  for (let i = 0; i < world.officerRecords.length; i += BATCH) await send(api, 'PUT', '/v1/officers', world.officerRecords.slice(i, i + BATCH));
  for (let i = 0; i < world.enterprises.length; i += BATCH) await send(api, 'PUT', '/v1/enterprises', world.enterprises.slice(i, i + BATCH));
  for (let i = 0; i < events.length; i += BATCH) {
    const batch = events.slice(i, i + BATCH);
    await send(api, 'POST', '/v1/events', batch);
    onSent?.(batch.length);
  }
}

/** For `qingjian demo`, which may start before the API it feeds (e.g. in docker compose). */
export async function waitForService(url: string, log: Logger, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const status = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) }).then((res) => res.status, (err: Error) => err.message);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${url} is not ready after ${timeoutMs / 1000} s (last answer: ${status})`);
    if (attempt % 10 === 0) log.info({ url, status }, 'waiting for the API to be ready');
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

async function runLive(options: DemoTrafficOptions, world: World, running: () => boolean) {
  const stream = liveEvents(world, { seed: options.seed, now: () => new Date(), visitsPerDay: options.visitsPerDay });
  let next: EventInput = (await stream.next()).value;
  let sent = 0;
  while (running()) {
    const due: EventInput[] = [];
    while (Date.parse(next.occurred_at) <= Date.now() && due.length < BATCH) {
      due.push(next);
      next = (await stream.next()).value;
    }
    if (due.length > 0) {
      await send(options.api, 'POST', '/v1/events', due).catch((err: Error) =>
        options.log.warn({ err: err.message }, 'demo post failed; the events are skipped'));
      sent += due.length;
      if (sent % 100 < due.length) options.log.info({ sent }, 'demo live events sent');
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

async function send(api: DemoApi, method: 'PUT' | 'POST', path: string, body: readonly unknown[]): Promise<void> {
  const res = await fetch(`${api.url}${path}`, { method, headers: { 'content-type': 'application/json', ...authorization(api) }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
}
