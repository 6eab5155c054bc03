import type { EngineEvent } from '../events.js';
import { num } from '../offsets.js';
import { assembleVisits } from './visits.js';

import type { CountingSpec, Unit } from './types.js';

export type { CountingSpec, Unit };

/** Turns time-ordered events into the units a threshold or cap counts; `plans` tell joint visits apart. */
export function countUnits(events: readonly EngineEvent[], counting: CountingSpec, plans: readonly EngineEvent[] = []): Unit[] {
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
  return assembleVisits(events, plans, num(counting.visits.gap_hours));
}
