import { describe, expect, it } from 'vitest';
import { Event } from '../src/ingest/schema.js';
import { fromStoredRow } from '../src/rules/events.js';
import { asStored, EngineEventRow, eventRows } from '../src/storage/tables/events.js';
import { parseRows } from '../src/storage/tables/query.js';
import { checkin, complaint, evaluation, filing, inspection, notice, plan } from './support/fixtures.js';

/**
 * An event as the engine holds it, from a row as ClickHouse answers it (parsed from text, every string its own):
 * every column the engine reads, once each, with the contract's defaults; the lists most events leave empty are
 * one shared list that nothing can change (memory holds hundreds of thousands of events).
 */
const rowsOf = (input: Record<string, unknown>) =>
  parseRows('events.stored', EngineEventRow, JSON.parse(JSON.stringify(eventRows(Event.parse(input), new Date().toISOString()).map(asStored))) as unknown[]);

// Columns the engine converts (times to epoch ms) or defaults (see the next test) rather than copies.
const CONVERTED = new Set(['occurred_at', 'started_at', 'ended_at', 'purpose', 'plan_id']);
const ALL: Array<Record<string, unknown>> = [checkin(), inspection({ matters: ['消防安全'] }), plan({ joint_agency_ids: ['371400-YJGL'] }), complaint(), filing(), notice(), evaluation()];

describe('events read from stored rows', () => {
  it('carry every column the engine reads, as the row has it', () => {
    for (const input of ALL) {
      for (const row of rowsOf(input)) {
        const event = fromStoredRow(row);
        expect(Object.keys(event).sort()).toEqual(Object.keys(EngineEventRow.shape).sort());
        for (const [field, value] of Object.entries(row)) {
          if (CONVERTED.has(field)) continue;
          expect(event[field as keyof typeof event], `${input.type} ${field}`).toEqual(value);
        }
        expect(event.occurred_at).toBe(Date.parse(input.occurred_at as string));
        expect(event.started_at).toBe(input.started_at ? Date.parse(input.started_at as string) : null);
        expect(event.ended_at).toBe(input.ended_at ? Date.parse(input.ended_at as string) : null);
      }
    }
  });

  it('apply the contract defaults: a visit is an inspection unless it says otherwise, a plan is its own plan', () => {
    const [visit] = rowsOf(checkin());
    const [filed] = rowsOf(plan());
    expect(fromStoredRow({ ...visit!, purpose: '' }).purpose).toBe('inspection');
    expect(fromStoredRow({ ...rowsOf(complaint())[0]!, purpose: '' }).purpose).toBe('');
    expect(fromStoredRow({ ...filed!, plan_id: '' }).plan_id).toBe(filed!.id);
  });

  it('share one empty list, and one instance of each list that repeats, none of which anything can change', () => {
    const [a] = rowsOf(checkin()).map(fromStoredRow);
    const [b] = rowsOf(complaint()).map(fromStoredRow);
    expect(a!.matters).toBe(b!.matters);
    expect(() => (a!.matters as string[]).push('x')).toThrow(TypeError);
    expect(b!.matters).toEqual([]);
    const [withMatters] = rowsOf(inspection({ matters: ['消防安全', '安全生产'] })).map(fromStoredRow);
    const [again] = rowsOf(inspection({ matters: ['消防安全', '安全生产'] })).map(fromStoredRow);
    expect(withMatters!.matters).toEqual(['消防安全', '安全生产']);
    expect(again!.matters).toBe(withMatters!.matters);
    expect(() => (again!.matters as string[]).push('x')).toThrow(TypeError);
    // Lists alike when joined, or in another order, are other lists.
    const [joined] = rowsOf(inspection({ matters: ['消防安全,安全生产'] })).map(fromStoredRow);
    const [swapped] = rowsOf(inspection({ matters: ['安全生产', '消防安全'] })).map(fromStoredRow);
    expect(joined!.matters).toEqual(['消防安全,安全生产']);
    expect(swapped!.matters).toEqual(['安全生产', '消防安全']);
    expect(a!.officer_ids.length).toBeGreaterThan(0);
    expect(rowsOf(checkin()).map(fromStoredRow)[0]!.officer_ids).toBe(a!.officer_ids);
  });
});
