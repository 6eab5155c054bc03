import type { EventInput } from '../ingest/schema.js';
import { createRandom } from './random.js';
import type { TimedEvent } from './records.js';
import { DAY, calendarDate, startOfDay } from '../calendar/index.js';
import { WARMUP_DAYS, createSimulation, type SimulationOptions } from './simulation.js';
import type { World } from './world.js';

export interface EventOptions {
  seed: number;
  from: Date;
  to: Date;
  /** Average on-site visits per working day across the whole world (default 30). */
  visitsPerDay?: number;
  /** Share of visits that break a rule on purpose (default 0.05). */
  violationRate?: number;
  /** Event ids are `${idPrefix}-${n}` (default 'demo'). */
  idPrefix?: string;
  /**
   * Also the events until this time about visits of the period (records filed, ratings given after its end),
   * for counting alerts whose expected events come later (莆田's results within 5 working days). Default: `to`.
   */
  followUpUntil?: Date;
}

/**
 * Events of [from, to) sorted by occurred_at. Plans filed before `from` whose
 * windows reach into the period are included too (they come first), so every
 * planned visit has its plan on record.
 */
export function generateEvents(world: World, options: EventOptions): EventInput[] {
  const from = options.from.getTime();
  const to = options.to.getTime();
  if (!(to > from)) throw new RangeError('generateEvents needs `to` after `from`');
  const simulation = createSimulation(world, createRandom(options.seed), {
    ...simulationOptions(options, 30), idPrefix: options.idPrefix ?? 'demo', aroundTheClock: false,
  });
  const firstDay = startOfDay(from);
  const produced: TimedEvent[] = [];
  for (let day = firstDay - WARMUP_DAYS * DAY; day < to; day += DAY) {
    for (const event of simulation.runDay(day, day < firstDay)) produced.push(event);
  }
  return inPeriod(produced, from, to, options.followUpUntil?.getTime()).map((t) => t.event);
}

/** The rates shared by the batch and the live generator, checked once here. */
export function simulationOptions(
  options: { visitsPerDay?: number; violationRate?: number }, defaultVisits: number,
): Pick<SimulationOptions, 'visitsPerDay' | 'violationRate'> {
  const visitsPerDay = options.visitsPerDay ?? defaultVisits;
  const violationRate = options.violationRate ?? 0.05;
  if (!(visitsPerDay >= 0)) throw new RangeError('visitsPerDay must be zero or more');
  if (!(violationRate >= 0 && violationRate <= 1)) throw new RangeError('violationRate must be between 0 and 1');
  return { visitsPerDay, violationRate };
}

/**
 * What a period starting at `from` sees, in time order: events from `from` on
 * whose visit also began then (so no record lacks its check-ins), and plans
 * filed earlier whose windows reach into the period. With `followUpUntil`, also
 * the later events about visits that began before `to`.
 */
export function inPeriod(events: TimedEvent[], from: number, to = Infinity, followUpUntil = to): TimedEvent[] {
  const firstDate = calendarDate(from);
  const kept = ({ at, origin, event }: TimedEvent) => (event.type === 'plan'
    ? at < to && (at >= from || event.window_end >= firstDate)
    : origin >= from && (at < to || (origin < to && at < followUpUntil)));
  return events.filter(kept).sort((a, b) => a.at - b.at);
}
