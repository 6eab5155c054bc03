import { DAY, midnight } from '../calendar/index.js';
import type { Enterprise } from '../ingest/index.js';
import type { Change } from '../queues/index.js';
import type { StatusFacts } from './store.js';

/**
 * The companies whose status an upsert changed, as evaluation changes: a record made before the status
 * arrived must raise its alert now (已注销 sent late), and a corrected status must retract it. The span runs
 * from the earlier of the old and the new deregistration day to now (plus a day for clocks running ahead),
 * so every alert either date could have raised is decided again. Repeating the same status changes nothing.
 */
export function statusChanges(before: ReadonlyMap<string, StatusFacts>, items: readonly Enterprise[], now: number): Change[] {
  const changes: Change[] = [];
  for (const item of items) {
    const was = before.get(item.enterprise_id) ?? { status: 'active', deregistered_on: null };
    const is = { status: item.status ?? 'active', deregistered_on: item.deregistered_on ?? null };
    if (was.status === is.status && was.deregistered_on === is.deregistered_on) continue;
    const days = [was.deregistered_on, is.deregistered_on].filter((d): d is string => d !== null).sort();
    if (days.length === 0) continue;
    changes.push({ enterprise_id: item.enterprise_id, from: midnight(days[0]!), to: now + DAY, event_ids: [], region: item.region });
  }
  return changes;
}
