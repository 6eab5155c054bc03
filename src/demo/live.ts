import { setImmediate as turn } from 'node:timers/promises';
import type { EventInput } from '../ingest/schema.js';
import { inPeriod, simulationOptions } from './events.js';
import { createRandom } from './random.js';
import type { TimedEvent } from './records.js';
import { DAY, HOUR, MINUTE, startOfDay } from '../calendar/index.js';
import { WARMUP_DAYS, createSimulation } from './simulation.js';
import type { World } from './world.js';

export interface LiveOptions {
  seed: number;
  now: () => Date;
  /** Share of events that arrive minutes to hours after they happened (default 0.1). */
  lateShare?: number;
  /** On-site visits per day across the world, at any hour (default 500). */
  visitsPerDay?: number;
  violationRate?: number;
  /** Defaults to one derived from the start time, so a restarted demo does not reuse ids the service has already deduplicated. */
  idPrefix?: string;
}

// A silent year means the world cannot produce events (e.g. every company exempt); stop instead of spinning.
const MAX_SILENT_DAYS = 366;

/**
 * An endless stream for the live demo, in arrival order, starting at now().
 * It opens with the plans already on file (filed in the past), then runs
 * around the clock; late events show up after later ones, out of order.
 * The stream does not wait: pace it by sending each event once the clock has
 * reached its occurred_at (late ones are already due), or the service will
 * see times in the future.
 *
 * It runs in the service's own process (`qingjian start --demo`), where one
 * simulated day of thousands of visits takes a tenth of a second and the
 * opening's warm-up several seconds. So it lets the event loop turn after each
 * simulated day, and the service goes on answering. (A stall of over five
 * seconds let Node's keep-alive timer close sockets that already held a
 * client's next request, which the client saw as ECONNRESET.)
 */
export async function* liveEvents(world: World, options: LiveOptions): AsyncGenerator<EventInput, never, undefined> {
  const start = options.now().getTime();
  const lateShare = options.lateShare ?? 0.1;
  if (!(lateShare >= 0 && lateShare <= 1)) throw new RangeError('lateShare must be between 0 and 1');
  const simulation = createSimulation(world, createRandom(options.seed), {
    ...simulationOptions(options, 500),
    idPrefix: options.idPrefix ?? `live-${Math.floor(start / 1000).toString(36)}`,
    aroundTheClock: true,
  });
  // Lateness draws from its own stream so changing lateShare reorders events without changing them.
  const delays = createRandom(options.seed ^ 0x5bd1e995);
  const lateness = () => (delays.chance(0.6) ? delays.int(5, 59) * MINUTE : delays.int(1, 6) * HOUR + delays.int(0, 59) * MINUTE);

  const firstDay = startOfDay(start);
  const opening: TimedEvent[] = [];
  for (let day = firstDay - WARMUP_DAYS * DAY; day <= firstDay; day += DAY) {
    for (const event of simulation.runDay(day, day < firstDay)) opening.push(event);
    await turn();
  }
  const kept = inPeriod(opening, start);
  for (const { at, event } of kept) if (at < start) yield event;

  let pending: { arrival: number; event: EventInput }[] = [];
  const admit = (events: TimedEvent[]) => {
    for (const { at, event } of events) pending.push({ arrival: delays.chance(lateShare) ? at + lateness() : at, event });
    pending.sort((a, b) => a.arrival - b.arrival);
  };
  admit(kept.filter(({ at }) => at >= start));
  let silentDays = 0;
  for (let day = firstDay + DAY; ; day += DAY) {
    // Whatever later days produce happens on or after their midnight, so arrivals before it are final.
    const due = pending.filter((p) => p.arrival < day);
    pending = pending.filter((p) => p.arrival >= day);
    for (const { event } of due) yield event;
    silentDays = due.length > 0 ? 0 : silentDays + 1;
    if (silentDays > MAX_SILENT_DAYS) throw new Error('the world produces no events: check its agencies, officers and companies');
    admit(simulation.runDay(day));
    await turn();
  }
}
