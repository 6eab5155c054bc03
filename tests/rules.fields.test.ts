import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Event } from '../src/ingest/schema.js';
import { eventFields } from '../src/rules/engine.js';
import { fromEvent } from '../src/rules/events.js';
import { ENGINE_FIELDS, refusingOthers, UndeclaredFieldError, type EventField } from '../src/rules/fields.js';
import { loadRuleSet, type RuleSet } from '../src/rules/load.js';
import { simulate } from '../src/rules/simulate.js';
import { runRuleTests } from '../src/rules/testing.js';
import { eventsInSpans, parseEventsInSpans } from '../src/storage/tables/events.js';
import { checkin } from './support/fixtures.js';

// A backtest reads only the event fields its rule reads: the engine's, its kind's and its conditions'. The rule tests
// run with every other field refused, so a read nobody declared fails them instead of judging an empty value.
const rules = loadRuleSet(join(import.meta.dirname, '..', 'rules'));
const fieldsOf = async (...ids: string[]) => {
  const set: RuleSet = await rules;
  return new Set(eventFields(set.rules.filter((r) => ids.includes(r.spec.id))));
};

describe('the fields a rule reads', () => {
  it("are the engine's, its kind's and those its conditions test, through macros, exemptions and a white-list's expectation", async () => {
    const frequent = await fieldsOf('frequent-visits');
    expect([...frequent].sort()).toEqual([...ENGINE_FIELDS].sort());
    expect(await fieldsOf('low-satisfaction')).toContain('score'); // the score kind's own
    expect(await fieldsOf('abnormal-duration')).toContain('ended_at'); // the duration kind's own
    const noPlan = await fieldsOf('no-plan');
    expect(noPlan).toContain('reviewed_by'); // whitelisted_expect: { reviewed_by: justice_bureau }
    expect(noPlan).toContain('purpose'); // detect.trigger: { use: onsite_inspection_start } and the macros it uses
    expect(noPlan).not.toContain('score');
    expect(await fieldsOf('quiet-period')).toContain('approved_by'); // an exemption's required filing
    // A backtest of a rule and its candidate reads what either reads.
    expect(await fieldsOf('frequent-visits', 'low-satisfaction')).toEqual(new Set([...frequent, 'score']));
  });

  it('are enough for every rule test, with every other field refused', async () => {
    const report = await runRuleTests(await rules);
    expect(report.problems).toEqual([]);
    expect(report.results.length).toBeGreaterThan(200);
    expect(report.results.filter((r) => r.failures.length > 0)).toEqual([]);
  });

  it('are all a simulation may read when it is told so: any other read throws, naming the field', async () => {
    const set = await rules;
    const run = (fields: ReadonlySet<EventField>) => simulate({
      rules: set.rules.filter((r) => r.spec.id === 'frequent-visits'),
      companies: [],
      agencyNames: new Map(),
      arrivals: [{ at: Date.parse('2026-11-20T01:30:00Z'), event: Event.parse(checkin()) }],
      until: Date.parse('2026-11-21T00:00:00Z'),
      fields,
    });
    expect(run(new Set(eventFields(set.rules.filter((r) => r.spec.id === 'frequent-visits'))))).toEqual([]);
    expect(() => run(new Set(ENGINE_FIELDS.filter((f) => f !== 'officer_ids')))).toThrow(UndeclaredFieldError);
  });
});

describe('an event holding some fields only', () => {
  const [event] = fromEvent(Event.parse(checkin({ method: 'qr', purpose: 'inspection' })));
  const kept = refusingOthers(new Set<EventField>(['id', 'type', 'method']))(event!);

  it('reads its fields and refuses the others by name', () => {
    expect([kept.id, kept.type, kept.method]).toEqual([event!.id, 'checkin', 'qr']);
    expect(() => kept.purpose).toThrow(new UndeclaredFieldError('purpose'));
    expect(() => kept.purpose).toThrow(/"purpose", which neither the engine, its kind \(Kind\.reads\) nor its conditions declare/);
  });

  it('copies only its fields', () => {
    expect(Object.keys({ ...kept })).toEqual(['id', 'type', 'method']);
  });
});

describe("a read of some columns of events", () => {
  it('selects those columns alone and checks its rows against them', () => {
    const { sql } = eventsInSpans.statement({
      enterpriseIds: ['91371402MA3C00001X'], spans: new Map([[null, { from: 0, to: 1 }]]), columns: ['id', 'type', 'enterprise_id', 'occurred_at', 'score'],
    });
    expect(sql).toMatch(/^SELECT id, type, enterprise_id, occurred_at, score FROM events FINAL WHERE /);
    const parse = parseEventsInSpans(['id', 'type', 'enterprise_id', 'occurred_at', 'score']);
    const row = { id: 'e1', type: 'evaluation', enterprise_id: '91371402MA3C00001X', occurred_at: '2026-11-20 01:30:00.000', score: 55 };
    expect(parse([row])).toEqual([row]);
    expect(() => parse([{ ...row, score: 'high' }])).toThrow(/events\.inSpans: row 0 does not fit the table's schema: score/);
  });

  it('holds what makes a row an event, and names no column the engine does not read', () => {
    const spans = new Map([[null, { from: 0, to: 1 }]]);
    expect(() => eventsInSpans.statement({ enterpriseIds: [], spans, columns: ['id', 'type', 'enterprise_id'] }))
      .toThrow(/must hold id, type, enterprise_id, occurred_at; "occurred_at" is missing/);
    expect(() => parseEventsInSpans(['id', 'type', 'enterprise_id', 'occurred_at', 'payload' as never]))
      .toThrow(/no column "payload" for the engine/);
  });
});
