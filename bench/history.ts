/**
 * The demo generator's events, streamed a day at a time: the same simulation,
 * warm-up and period filter as `generateEvents` (src/demo/events.ts), so the
 * output is identical, but millions of events never sit in memory at once.
 * The rules benchmark loads a year of history with it.
 */
import { DAY, startOfDay } from '../src/calendar/index.js';
import { inPeriod, simulationOptions, type EventOptions } from '../src/demo/events.js';
import { createRandom } from '../src/demo/random.js';
import type { TimedEvent } from '../src/demo/records.js';
import { createSimulation, WARMUP_DAYS } from '../src/demo/simulation.js';
import type { World } from '../src/demo/world.js';
import type { EventInput } from '../src/ingest/schema.js';

/**
 * Events per day per unit of `visitsPerDay`, averaged over weeks and 云和's
 * monthly quiet period (measured on the demo world over 2026: 4.88). Used to
 * pick `visitsPerDay` for a wanted number of events.
 */
export const EVENTS_PER_VISIT_DAY = 4.9;

/** Yields the events of [from, to) in occurred_at order, one simulated day per chunk (some chunks are empty). */
export function* streamEvents(world: World, options: EventOptions): Generator<EventInput[], void, undefined> {
  const from = options.from.getTime();
  const to = options.to.getTime();
  if (!(to > from)) throw new RangeError('streamEvents needs `to` after `from`');
  const simulation = createSimulation(world, createRandom(options.seed), {
    ...simulationOptions(options, 30), idPrefix: options.idPrefix ?? 'demo', aroundTheClock: false,
  });
  const firstDay = startOfDay(from);
  let pending: TimedEvent[] = [];
  for (let day = firstDay - WARMUP_DAYS * DAY; day < to; day += DAY) {
    for (const event of simulation.runDay(day, day < firstDay)) pending.push(event);
    // Everything a later day produces happens on or after that day's midnight: what lies before is final.
    const final = pending.filter((t) => t.at < day + DAY);
    pending = pending.filter((t) => t.at >= day + DAY);
    yield inPeriod(final, from, to).map((t) => t.event);
  }
  yield inPeriod(pending, from, to).map((t) => t.event);
}
