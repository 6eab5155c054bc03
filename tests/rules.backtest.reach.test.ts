import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLEARED } from '../src/alerts/model.js';
import { DAY, MINUTE } from '../src/calendar/index.js';
import { Event } from '../src/ingest/schema.js';
import { backtest } from '../src/rules/backtest.js';
import { companyFacts } from '../src/rules/events.js';
import { loadRuleSet, type RuleSet } from '../src/rules/load.js';
import { simulate } from '../src/rules/simulate.js';
import { createEmbeddedStorage } from '../src/storage/embedded.js';
import { migrate, type Storage } from '../src/storage/index.js';
import { enterpriseRow, insertEnterprises } from '../src/storage/tables/enterprises.js';
import { eventRows, insertEvents } from '../src/storage/tables/events.js';
import { creditCode } from './support/fixtures.js';

// A backtest of a counting rule reads only the companies whose count, bounded in the storage, reaches the rule's
// line (a kind's `reach`, a `CountBound` of src/storage/tables/events.ts). The bound must never leave out a company
// the rule alerts: over histories made to sit on its edges (scans and records of several agencies around the visit
// gap, records started before they were written, visits off site, runs of days around the window), the backtest
// finds exactly what the live engine finds, for the rule as it is and for edits of its figures.
const dir = mkdtempSync(join(tmpdir(), 'qingjian-reach-'));
const rulesDir = join(import.meta.dirname, '..', 'rules');
let storage: Storage;
const sets: Array<{ name: string; set: RuleSet }> = [];
const EPOCH = Date.parse('2025-01-06T00:00:00+08:00');
const COMPANIES = 16;
const RUNS = 20;
const AGENCIES = ['371400-SCJG', '371400-HBJ', '371400-YJJ'];

/** The rules directory with 德州's frequent-visits parameters set to these (the rule's version raised, its counting replaced). */
async function dezhouWith(params: string, counting?: string): Promise<RuleSet> {
  const copy = mkdtempSync(join(tmpdir(), 'qingjian-reach-rules-'));
  try {
    cpSync(rulesDir, copy, { recursive: true });
    const edit = (name: string, from: string, to: string) => {
      const text = readFileSync(join(copy, name), 'utf8');
      expect(text).toContain(from);
      writeFileSync(join(copy, name), text.replace(from, to));
    };
    edit('frequent-visits.yaml', 'version: 2', 'version: 3');
    if (counting) edit('frequent-visits.yaml', '  count:\n    visits: { gap_hours: $visit_gap_hours }\n', `  count: ${counting}\n`);
    edit('regions.yaml', '      frequent-visits:\n', `      frequent-visits:\n        params: ${params}\n`);
    return await loadRuleSet(copy);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  storage = createEmbeddedStorage(dir, 'default');
  await migrate(storage);
  sets.push(
    { name: 'as it is', set: await loadRuleSet(rulesDir) },
    { name: 'a 3-hour visit gap', set: await dezhouWith('{ visit_gap_hours: 3 }') },
    { name: 'a line of 3 in 10 days, 2 for one agency', set: await dezhouWith('{ at_least: 3, agency_at_least: 2, window_days: 10 }') },
  );
}, 60_000);

afterAll(async () => {
  await storage?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One on-site presence (or not) of an agency: a scan in or out, or a record that may have started hours before. */
const presence = (days: number, agencies: readonly string[]) => fc.record({
  day: fc.integer({ min: 0, max: days - 1 }),
  // Quarter hours of the working day: on and beside the 2- and 3-hour gaps.
  minute: fc.integer({ min: 8 * 4, max: 19 * 4 }).map((q) => q * 15),
  agency: fc.constantFrom(...agencies),
  kind: fc.constantFrom('enter', 'exit', 'record'),
  startedBefore: fc.constantFrom(0, 90, 150, 200),
  onsite: fc.constantFrom(true, true, true, true, false),
});
type Presence = { day: number; minute: number; agency: string; kind: string; startedBefore: number; onsite: boolean };

/** A run of one agency's (or two agencies') visits, each so many days and minutes after the last: counts and spans on the lines. */
const visitRun = fc.record({
  first: fc.integer({ min: 8 * 4, max: 11 * 4 }).map((q) => q * 15),
  steps: fc.array(fc.record({
    days: fc.constantFrom(0, 0, 1, 3, 6, 9, 13, 14, 15),
    minutes: fc.constantFrom(0, 60, 105, 120, 135, 165, 180, 195),
    agency: fc.constantFrom(...AGENCIES.slice(0, 2)),
    kind: fc.constantFrom('enter', 'enter', 'exit', 'record'),
    startedBefore: fc.constantFrom(0, 150, 200),
  }), { minLength: 2, maxLength: 6 }),
}).map(({ first, steps }) => {
  let day = 0;
  let minute = first;
  return steps.map((step): Presence => {
    day += step.days;
    minute = step.days > 0 ? first : minute + step.minutes;
    // A record is placed at its start (here, hours before it was written), as visits are.
    const at = minute + (step.kind === 'record' ? step.startedBefore : 0);
    return { day: day + Math.floor(at / (24 * 60)), minute: at % (24 * 60), agency: step.agency, kind: step.kind, startedBefore: step.startedBefore, onsite: true };
  });
});

// Companies seen once or twice, which no line here can alert, beside companies seen often: at random over a month
// by three agencies, or in runs.
const company = fc.oneof(
  fc.array(presence(25, AGENCIES), { minLength: 1, maxLength: 2 }),
  fc.array(presence(25, AGENCIES), { minLength: 3, maxLength: 9 }),
  visitRun,
);
const history = fc.array(company, { minLength: COMPANIES, maxLength: COMPANIES });

let runs = 0;

it('finds exactly the alerts of the live engine while reading only the companies the bound lets through', async () => {
  let seldom = 0;
  let read = 0;
  await fc.assert(fc.asyncProperty(history, async (companies) => {
    // Each run in its own months and companies, so that no run reads another's.
    const start = EPOCH + runs * 120 * DAY;
    const serial = (i: number) => 900_000 + runs * 100 + i;
    runs++;
    const enterprises = companies.map((_, i) => ({
      enterprise_id: creditCode('371402', serial(i)), name: `企业${serial(i)}`, region: '371402', credit_grade: 'B' as const, whitelisted: false,
    }));
    const events = companies.flatMap((visits, i) => visits.map((v, j) => toEvent(enterprises[i]!.enterprise_id, `${serial(i)}-${j}`, start, v)));
    await insertEnterprises(storage, enterprises.map((e) => enterpriseRow(e, new Date(start).toISOString())));
    await insertEvents(storage, events.flatMap((e) => eventRows(e, new Date(start).toISOString())));
    seldom += companies.filter((visits) => visits.length <= 2).length;

    const from = new Date(start);
    const to = new Date(start + 40 * DAY);
    for (const { name, set } of sets) {
      const report = await backtest(storage, { current: set, ruleId: 'frequent-visits', from, to, now: start + 100 * DAY });
      const expected = simulate({
        rules: set.rules.filter((r) => r.spec.id === 'frequent-visits'),
        companies: enterprises.map(companyFacts),
        agencyNames: new Map(),
        arrivals: events.map((event) => ({ at: Date.parse(event.occurred_at), event })),
        until: start + 100 * DAY,
      }).filter((a) => a.resolution !== CLEARED && Date.parse(a.anchor_at) >= from.getTime() && Date.parse(a.anchor_at) <= to.getTime());
      const perCompany = new Map<string, number>();
      for (const a of expected) perCompany.set(a.enterprise_id, (perCompany.get(a.enterprise_id) ?? 0) + 1);
      expect(new Map(report.by_company.map((c) => [c.enterprise_id, c.alerts])), name).toEqual(perCompany);
      expect(report.alerts, name).toBe(expected.length);
      if (name === 'as it is') read += report.companies;
    }
  }), { numRuns: RUNS, seed: 17 });
  // The bound left out every company seen once or twice (the line of one agency is three visits), and more.
  expect(seldom).toBeGreaterThan(COMPANIES);
  expect(read).toBeGreaterThan(0);
  expect(read).toBeLessThanOrEqual(RUNS * COMPANIES - seldom);
}, 120_000);

function toEvent(enterprise: string, id: string, start: number, v: Presence): Event {
  const at = start + v.day * DAY + v.minute * MINUTE;
  const common = {
    id: `reach-${id}`, occurred_at: new Date(at).toISOString(), region: '371402', source: 'test', enterprise_id: enterprise,
    agency_id: v.agency, officer_ids: [`${v.agency}-001`],
  };
  return Event.parse(v.kind === 'record'
    ? { ...common, type: 'inspection', onsite: v.onsite, outcome: 'no_issue',
      started_at: new Date(at - v.startedBefore * MINUTE).toISOString(), ended_at: new Date(at).toISOString() }
    : { ...common, type: 'checkin', action: v.kind, method: 'qr', onsite: v.onsite });
}

it('reads every company when the rule counts distinct officers, of whom one scan may name several', async () => {
  const set = await dezhouWith('{ agency_at_least: 3 }', '{ distinct: officer_ids }');
  const start = EPOCH + 3_000 * DAY;
  const enterprise = { enterprise_id: creditCode('371402', 999_999), name: '企业', region: '371402', credit_grade: 'B' as const, whitelisted: false };
  // Two scans in a week, each naming two officers: four officers, the line of one agency is three.
  const scans = [0, 5].map((day, i) => Event.parse({
    id: `reach-officers-${i}`, type: 'checkin', occurred_at: new Date(start + day * DAY + 10 * 60 * MINUTE).toISOString(), region: '371402',
    source: 'test', enterprise_id: enterprise.enterprise_id, agency_id: AGENCIES[0], officer_ids: [`o-${i}-a`, `o-${i}-b`], action: 'enter', method: 'qr',
  }));
  await insertEnterprises(storage, [enterpriseRow(enterprise, new Date(start).toISOString())]);
  await insertEvents(storage, scans.flatMap((e) => eventRows(e, new Date(start).toISOString())));
  const report = await backtest(storage, { current: set, ruleId: 'frequent-visits', from: new Date(start), to: new Date(start + 20 * DAY), now: start + 100 * DAY });
  expect(report.by_company).toEqual([{ enterprise_id: enterprise.enterprise_id, name: '企业', alerts: 2 }]);
});
