import { HOUR } from '../../calendar/index.js';
import type { EngineEvent } from '../events.js';
import { num } from '../offsets.js';

export type CountingSpec = 'events' | { visits: { by: 'agency_id'[]; gap_hours: number | string } } | { distinct: 'agency_id' | 'officer_ids' };

/** One thing counted: an event, a visit (check-ins close together), or a distinct value. */
export interface Unit {
  at: number;
  events: EngineEvent[];
}

/** Turns time-ordered events into the units a threshold or cap counts. */
export function countUnits(events: readonly EngineEvent[], counting: CountingSpec): Unit[] {
  if (counting === 'events') return events.map((e) => ({ at: e.occurred_at, events: [e] }));
  if ('distinct' in counting) {
    const units = new Map<string, Unit>();
    for (const e of events) {
      for (const value of [e[counting.distinct]].flat()) {
        const unit = units.get(value);
        if (unit) unit.events.push(e);
        else units.set(value, { at: e.occurred_at, events: [e] });
      }
    }
    return [...units.values()].sort((a, b) => a.at - b.at);
  }
  // Officers of one visit scan in one after another: a check-in within the gap of the visit's last one joins it.
  const gap = num(counting.visits.gap_hours) * HOUR;
  const open = new Map<string, Unit & { last: number }>();
  const units: Unit[] = [];
  for (const e of events) {
    const key = counting.visits.by.map((f) => e[f]).join('|');
    const visit = open.get(key);
    if (visit && e.occurred_at - visit.last <= gap) {
      visit.events.push(e);
      visit.last = e.occurred_at;
    } else {
      const unit = { at: e.occurred_at, events: [e], last: e.occurred_at };
      open.set(key, unit);
      units.push(unit);
    }
  }
  return units.map(({ at, events }) => ({ at, events }));
}

export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
