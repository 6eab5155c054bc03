import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLEARED } from '../src/alerts/model.js';
import { DAY } from '../src/calendar/index.js';
import { createWorld, generateEvents } from '../src/demo/index.js';
import { Event } from '../src/ingest/schema.js';
import { backtest, formatBacktestReport } from '../src/rules/backtest.js';
import { eventFields } from '../src/rules/engine.js';
import { judgeSlice, ruleOf, type SliceJudge } from '../src/rules/backtest/slice.js';
import { ruleSetAt, startSliceThread } from '../src/rules/backtest/thread.js';
import { readCompanies } from '../src/rules/context.js';
import { EngineEventRow } from '../src/storage/tables/events.js';
import { columnsOf } from '../src/storage/tables/query.js';
import { companyFacts } from '../src/rules/events.js';
import { loadRuleSet, type RuleSet } from '../src/rules/load.js';
import { simulate } from '../src/rules/simulate.js';
import { creditCode } from './support/fixtures.js';
import { eventually, post, put, startTestService, type TestService } from './support/service.js';

// A backtest reads stored history and concludes what the live engine would have.
let service: TestService;
let current: RuleSet;
let events: Event[];
// Each rule holds somewhere here: 烟台 (no-plan, with plans filed late, and entry-without-scan), 云和 (quiet-period,
// annual-cap), 德州 (frequent-visits) and 海曙 (deregistered-company, joint-not-together, plan-not-executed).
const yantai = createWorld({ seed: 31, enterprisesPerRegion: 60, regions: ['370600'] });
const elsewhere = createWorld({ seed: 32, enterprisesPerRegion: 30, regions: ['331125', '371400'] });
const haishu = createWorld({ seed: 33, enterprisesPerRegion: 100, regions: ['330203'] });
const enterprises = [...yantai.enterprises, ...elsewhere.enterprises, ...haishu.enterprises];
const agencies = [...yantai.agencies, ...elsewhere.agencies, ...haishu.agencies];
const to = new Date(Date.now() - 20 * DAY);
const from = new Date(to.getTime() - 40 * DAY);

beforeAll(async () => {
  service = await startTestService({ STORE_BATCH_WAIT_MS: '20', RULES_WATCH: 'false' });
  current = await loadRuleSet(service.config.RULES_DIR);
  await put(`${service.url}/v1/enterprises`, enterprises);
  await put(`${service.url}/v1/agencies`, agencies);
  events = [
    ...generateEvents(yantai, { seed: 9, from, to, visitsPerDay: 15, violationRate: 0.3, idPrefix: 'bt' }),
    ...generateEvents(elsewhere, { seed: 9, from, to, visitsPerDay: 10, violationRate: 0.3, idPrefix: 'bt-zj' }),
    ...generateEvents(haishu, { seed: 9, from, to, visitsPerDay: 10, violationRate: 0.3, idPrefix: 'bt-hs' }),
  ].map((e) => Event.parse(e));
  for (let i = 0; i < events.length; i += 500) expect((await post(`${service.url}/v1/events`, events.slice(i, i + 500))).status).toBe(202);
  await eventually(async () => {
    const [row] = await service.storage.query<{ n: number }>("SELECT count(DISTINCT id) AS n FROM events WHERE id LIKE 'bt-%'");
    return Number(row!.n) === events.length ? true : undefined;
  }, 30_000, 'history stored');
}, 120_000);

afterAll(async () => service?.dispose());

function engineAlerts(set: RuleSet, ruleId: string) {
  return simulate({
    rules: set.rules.filter((r) => r.spec.id === ruleId),
    companies: enterprises.map(companyFacts),
    agencyNames: new Map(agencies.map((a) => [a.agency_id, a.name])),
    arrivals: events.map((event) => ({ at: Date.parse(event.occurred_at), event })),
    until: Date.now(),
  }).filter((a) => a.resolution !== CLEARED && Date.parse(a.anchor_at) >= from.getTime() && Date.parse(a.anchor_at) <= to.getTime());
}

// annual-cap's alerts are anchored at the start of their year: a window without 1 January holds none of them.
const anchoredInWindow = [
  'no-plan', 'frequent-visits', 'quiet-period', 'entry-without-scan', 'deregistered-company', 'joint-not-together', 'plan-not-executed',
];

it.each([...anchoredInWindow, 'annual-cap'])(
  'finds what the live engine finds for %s', async (ruleId) => {
    const report = await backtest(service.storage, { current, ruleId, from, to });
    const expected = engineAlerts(current, ruleId);
    if (anchoredInWindow.includes(ruleId)) expect(expected.length).toBeGreaterThan(0);
    expect(report.alerts).toBe(expected.length);
    expect(report.by_day.reduce((n, d) => n + d.alerts, 0)).toBe(expected.length);
    expect(report.companies).toBeGreaterThan(0);
    expect(report.diff).toBeNull();
  },
);

it('reads history in slices of whole companies and reports the same as in one slice', async () => {
  const progress: Array<[number, number]> = [];
  const whole = await backtest(service.storage, { current, ruleId: 'no-plan', from, to });
  const sliced = await backtest(service.storage, {
    current, ruleId: 'no-plan', from, to, sliceRows: 40, onSlice: (done, slices) => progress.push([done, slices]),
  });
  const slices = progress[0]![1];
  // Slices of about 40 rows among 220 companies: many of them, each read while the one before is evaluated.
  expect(slices).toBeGreaterThan(20);
  expect(progress).toEqual(Array.from({ length: slices + 1 }, (_, done) => [done, slices]));
  const { ms: _whole, ...expected } = whole;
  const { ms: _sliced, ...actual } = sliced;
  expect(whole.alerts).toBeGreaterThan(0);
  expect(actual).toEqual(expected);

  // Many slices are judged on a thread of their own, a few here (each on a later turn, the next one's read first).
  let few = 0;
  const { ms: _few, ...inPlace } = await backtest(service.storage, {
    current, ruleId: 'no-plan', from, to, sliceRows: Math.ceil(whole.events_read / 2.5), onSlice: (_done, n) => (few = n),
  });
  expect(few).toBeGreaterThanOrEqual(2);
  expect(few).toBeLessThan(4);
  expect(inPlace).toEqual(expected);
});

/** The rule set of a copy of the rules directory with each `[file, from, to]` replacement made (each must apply). */
async function editedRuleSet(edits: Array<[string, string, string]>): Promise<RuleSet> {
  const dir = mkdtempSync(join(tmpdir(), 'qingjian-candidate-'));
  try {
    cpSync(service.config.RULES_DIR, dir, { recursive: true });
    for (const [name, from, to] of edits) {
      const file = join(dir, name);
      const text = readFileSync(file, 'utf8');
      expect(text).toContain(from);
      writeFileSync(file, text.replace(from, to));
    }
    return await loadRuleSet(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

it('reports the difference an edited rule makes, without storing anything', async () => {
  // 烟台's lead time is set in the policy map: shorten it there, and version the rule.
  const candidate = await editedRuleSet([
    ['no-plan.yaml', 'version: 2', 'version: 3'],
    ['regions.yaml', 'params: { lead_days: 7, green_channel: true }', 'params: { lead_days: 3, green_channel: true }'],
  ]);
  const report = await backtest(service.storage, { current, candidate, ruleId: 'no-plan', from, to });
  // Sliced, the slice thread compiles both sets again from their sources: the candidate's directory is gone by now.
  let slices = 0;
  const { ms: _sliced, ...sliced } = await backtest(service.storage, {
    current, candidate, ruleId: 'no-plan', from, to, sliceRows: 200, onSlice: (_done, n) => (slices = n),
  });
  expect(slices).toBeGreaterThan(5);
  const { ms: _whole, ...whole } = report;
  expect(sliced).toEqual(whole);
  expect(report.candidate_version).toBe(3);
  expect(report.alerts).toBe(engineAlerts(candidate, 'no-plan').length);
  const diff = report.diff!;
  // A shorter lead time turns some late-plan alerts into no alert at all, and never adds one.
  expect(diff.added).toBe(0);
  expect(diff.removed + diff.changed).toBeGreaterThan(0);
  expect(diff.unchanged + diff.changed).toBe(report.alerts);
  expect(formatBacktestReport(report)).toContain('difference from v2');
  // The live engine may still be deciding the history in the background, so "nothing stored" is read as: no alert
  // under the candidate's version exists.
  expect(await service.storage.query<{ n: number }>("SELECT count() AS n FROM alerts WHERE rule_id = 'no-plan' AND rule_version = 3"))
    .toEqual([{ n: 0 }]);
});

it('reads the companies of the regions where the rule or its candidate is in force, and no others', async () => {
  // frequent-visits holds in 德州 alone: of this history's 280 companies, 德州's 30 are read.
  const alone = await backtest(service.storage, { current, ruleId: 'frequent-visits', from, to });
  const dezhou = elsewhere.enterprises.filter((e) => e.region.startsWith('3714')).length;
  expect(alone.companies).toBeGreaterThan(0);
  expect(alone.companies).toBeLessThanOrEqual(dezhou);
  expect([alone.regions, alone.bounded]).toEqual([['3714'], true]);
  expect(formatBacktestReport(alone)).toContain('companies read: where the rule is in force (3714), whose count could reach its line');
  // no-plan counts nothing: every company of its four regions is read.
  const noPlan = await backtest(service.storage, { current, ruleId: 'no-plan', from, to });
  expect([noPlan.regions?.sort(), noPlan.bounded]).toEqual([['330203', '331125', '3503', '3706'], false]);
  // A candidate that also puts it in force in 烟台 reads 烟台's companies too, and finds their alerts.
  const candidate = await editedRuleSet([
    ['frequent-visits.yaml', 'version: 2', 'version: 3'],
    ['regions.yaml', '    rules:\n      no-plan:\n        params: { lead_days: 7', '    rules:\n      frequent-visits:\n      no-plan:\n        params: { lead_days: 7'],
  ]);
  const adopted = await backtest(service.storage, { current, candidate, ruleId: 'frequent-visits', from, to });
  expect(adopted.companies).toBeGreaterThan(alone.companies + yantai.enterprises.length / 2);
  expect(adopted.regions?.sort()).toEqual(['3706', '3714']);
  expect(adopted.alerts).toBe(engineAlerts(candidate, 'frequent-visits').length);
  expect(adopted.diff!.added).toBeGreaterThan(0);
  expect(adopted.diff!.added + adopted.diff!.unchanged + adopted.diff!.changed).toBe(adopted.alerts);
  expect(adopted.alerts - adopted.diff!.added).toBe(alone.alerts);
});

it('reads the columns of each event that the rule or its candidate reads, and no others', async () => {
  const alone = await backtest(service.storage, { current, ruleId: 'frequent-visits', from, to });
  expect([...alone.columns].sort()).toEqual(eventFields([ruleOf(current, 'frequent-visits')]).sort());
  expect(alone.columns).not.toContain('method');
  expect(formatBacktestReport(alone)).toContain(`events read (${alone.columns.length} columns each)`);
  // A candidate that counts QR scans only reads each scan's method too, and judges by it.
  const candidate = await editedRuleSet([
    ['frequent-visits.yaml', 'version: 2', 'version: 3'],
    ['frequent-visits.yaml', 'match: { use: onsite_presence }', 'match: { use: onsite_presence, method: qr }'],
  ]);
  const edited = await backtest(service.storage, { current, candidate, ruleId: 'frequent-visits', from, to });
  expect(edited.columns).toContain('method');
  expect(edited.alerts).toBe(engineAlerts(candidate, 'frequent-visits').length);
  expect(edited.alerts).toBeLessThan(alone.alerts);
});

it('places a company without reference data by the region its events name', async () => {
  // Four agencies' visits in a week to each of two companies nobody sent reference data for, long before the history
  // above: one in 德州, where frequent-visits holds, one in 莆田, where it does not.
  const day = (n: number) => new Date(Date.now() - n * DAY).toISOString();
  const visits = (enterprise: string, region: string) => [300, 298, 296, 294].map((n, i) => ({
    id: `bt-unknown-${region}-${i}`, type: 'checkin', occurred_at: day(n), region, source: 'test', enterprise_id: enterprise,
    agency_id: `${region.slice(0, 4)}00-A${i}`, officer_ids: [`${region.slice(0, 4)}00-A${i}-001`], action: 'enter', method: 'qr',
  }));
  const inDezhou = creditCode('371402', 987_654);
  const inPutian = creditCode('350302', 987_654);
  const unknown = [...visits(inDezhou, '371402'), ...visits(inPutian, '350302')];
  expect((await post(`${service.url}/v1/events`, unknown)).status).toBe(202);
  await eventually(async () => {
    const [row] = await service.storage.query<{ n: number }>("SELECT count(DISTINCT id) AS n FROM events WHERE id LIKE 'bt-unknown-%'");
    return Number(row!.n) === unknown.length ? true : undefined;
  }, 30_000, 'visits stored');

  const report = await backtest(service.storage, { current, ruleId: 'frequent-visits', from: new Date(day(310)), to: new Date(day(290)) });
  expect(report.companies).toBe(1);
  expect(report.by_company).toEqual([{ enterprise_id: inDezhou, name: inDezhou, alerts: 1 }]);
});

it('names a rule that does not exist', async () => {
  await expect(backtest(service.storage, { current, ruleId: 'no-such-rule', from, to })).rejects.toThrow(/no rule "no-such-rule"/);
});

describe('the slice thread', () => {
  const columns = () => eventFields([ruleOf(current, 'no-plan')]);
  const judge = (): SliceJudge => ({
    current, candidate: null, ruleId: 'no-plan', anchors: { from: from.getTime(), to: to.getTime() }, now: Date.now(), agencies: new Map(), columns: columns(),
  });
  const history = (order: string, read = columns().join(', ')) =>
    service.storage.queryCompact(`SELECT ${read} FROM events FINAL WHERE id LIKE 'bt-%' ORDER BY ${order}`);

  it('judges each company once its rows are read, and refuses rows that do not come by company', async () => {
    const companies = await readCompanies(service.storage, enterprises.map((e) => e.enterprise_id));
    const byCompany = judgeSlice(judge(), await history('enterprise_id'), companies);
    expect(byCompany.current.length).toBe(engineAlerts(current, 'no-plan').length);
    expect(byCompany.events).toBeGreaterThan(events.length / 2);
    expect(judgeSlice(judge(), headerOnly(), companies)).toEqual({ current: [], candidate: [], names: [], companies: 0, events: 0 });
    // In time order, a company's rows come apart: judging it on part of its history would report wrong alerts.
    await expect(history('occurred_at, id').then((bytes) => judgeSlice(judge(), bytes, companies))).rejects.toThrow(/did not come together/);
    // Every column gives the same alerts; a column the rule reads missing from the read is refused, by name.
    expect(judgeSlice(judge(), await history('enterprise_id', columnsOf(EngineEventRow)), companies)).toEqual(byCompany);
    const withoutStatus = await history('enterprise_id', columns().filter((c) => c !== 'status').join(', '));
    expect(() => judgeSlice(judge(), withoutStatus, companies)).toThrow(/events\.inSpans: row 0 does not fit the table's schema: status/);
  });

  it('stops starting when told to, before or while it loads', async () => {
    const spec = { ...judge(), current: ruleSetAt(current), candidate: null, agencies: [] };
    await expect(startSliceThread(spec, AbortSignal.abort(new Error('not needed')))).rejects.toThrow('not needed');
    const stopping = new AbortController();
    const started = startSliceThread(spec, stopping.signal);
    stopping.abort(new Error('fewer slices than planned'));
    await expect(started).rejects.toThrow('fewer slices than planned');
  });

  it('answers a slice it cannot judge with the reason, and goes on judging the next', async () => {
    const thread = await startSliceThread({ ...judge(), current: ruleSetAt(current), candidate: null, agencies: [] });
    try {
      const good = await history('enterprise_id');
      const bad = withValue(good, 'occurred_at', 'yesterday');
      const companies = await readCompanies(service.storage, enterprises.map((e) => e.enterprise_id));
      await expect(thread.judge(bad, companies)).rejects.toThrow(/events\.inSpans: row 0 does not fit the table's schema: occurred_at/);
      const judged = await thread.judge(good, companies);
      // The bytes were moved to the thread, not copied.
      expect(good.byteLength).toBe(0);
      expect(judged.current.length).toBe(engineAlerts(current, 'no-plan').length);
    } finally {
      await thread.close();
    }
  });
});

/** A result of no rows: its header line alone. */
const headerOnly = () => new TextEncoder().encode(`${JSON.stringify(Object.keys(EngineEventRow.shape))}\n`);

/** A compact result with `column` of its first row set to `value`. */
function withValue(bytes: Uint8Array, column: string, value: unknown): Uint8Array {
  const [header, first, ...rest] = new TextDecoder().decode(bytes).split('\n');
  const values = JSON.parse(first!) as unknown[];
  values[(JSON.parse(header!) as string[]).indexOf(column)] = value;
  return new TextEncoder().encode([header, JSON.stringify(values), ...rest].join('\n'));
}
