import { describe, expect, it } from 'vitest';
import { loadEvents } from '../bench/load-events.js';
import { wrkBodies } from '../bench/wrk-bodies.js';
import { Event } from '../src/ingest/schema.js';

// wrk's single-event row means what it says only if every body is an event the service accepts, each id sent once,
// in the history's steady mix, with the plans its visits name sent before.
describe("the bodies wrk sends (bench:ingest's single-event row)", () => {
  it('are a demo history from its first visit on, its first month of plans the lead, one valid event a line, each id once', () => {
    const { lead, bodies } = wrkBodies({ kind: 'demo', count: 3_000, seed: 3, idPrefix: 'wrk' });
    const [before, sent] = [lead, bodies].map((lines) => lines.map((b) => JSON.parse(b) as { id: string; type: string }));
    expect(sent).toHaveLength(3_000);
    expect([...before!, ...sent!]).toEqual(loadEvents({ seed: 3, count: before!.length + 3_000, idPrefix: 'wrk' }));
    expect(before!.filter((e) => e.type === 'checkin' || e.type === 'inspection')).toEqual([]);
    expect(sent![0]!.type).toMatch(/^(checkin|inspection)$/);
    expect([...new Set(sent!.map((e) => e.type))]).toEqual(expect.arrayContaining(['plan', 'checkin', 'inspection']));
    expect([...before!, ...sent!].flatMap((e, i) => (Event.safeParse(e).success ? [] : [i]))).toEqual([]);
    const ids = [...before!, ...sent!].map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => id.startsWith('wrk-'))).toBe(true);
  });

  it('of the one-company run are valid check-ins at one company and minute, each id once, with no lead', () => {
    const { lead, bodies } = wrkBodies({ kind: 'one-company', count: 500, idPrefix: 'wrkhot' });
    expect(lead).toEqual([]);
    const events = bodies.map((b) => Event.parse(JSON.parse(b)));
    expect(new Set(events.map((e) => e.id)).size).toBe(500);
    expect(new Set(events.map((e) => `${e.type} ${'enterprise_id' in e ? e.enterprise_id : ''} ${e.occurred_at}`))).toEqual(
      new Set(['checkin 91350100M000100Y43 2026-11-20T09:30:00+08:00']));
  });
});
