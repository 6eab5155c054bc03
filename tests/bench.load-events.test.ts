import { describe, expect, it } from 'vitest';
import { loadEvents } from '../bench/load-events.js';

// The ingest benchmark's load: its figures mean something only if its events are the demo's history as generated.
describe('the ingest benchmark load', () => {
  const events = loadEvents({ seed: 1, count: 12_000, idPrefix: 'batch' });

  it('has exactly the events asked for, each id once, under the prefix', () => {
    expect(events).toHaveLength(12_000);
    expect(new Set(events.map((e) => e.id)).size).toBe(12_000);
    expect(events.every((e) => String(e.id).startsWith('batch-'))).toBe(true);
  });

  it('keeps every plan a visit names: the plan_id of a check-in or record is the id of a plan in the load', () => {
    const plans = new Set(events.filter((e) => e.type === 'plan').map((e) => e.id));
    const named = events.flatMap((e) => (e.type !== 'plan' && 'plan_id' in e && e.plan_id ? [{ id: e.id, plan: e.plan_id }] : []));
    expect(named.length).toBeGreaterThan(1000);
    expect(named.filter((e) => !plans.has(e.plan)).map((e) => `${e.id} names ${e.plan}`)).toEqual([]);
  });

  it('is in event-time order and repeats for a seed', () => {
    const times = events.map((e) => Date.parse(String(e.occurred_at)));
    expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);
    expect(loadEvents({ seed: 1, count: 500, idPrefix: 'batch' })).toEqual(events.slice(0, 500));
  });
});
