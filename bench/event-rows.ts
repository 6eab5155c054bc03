/**
 * What the store worker spends per accepted event before its insert: building the table's rows (`eventRows`) and
 * reading them as evaluation will (`engineRows`), over two months of demo events. Then, for scale, the object
 * pattern that made `eventRows` slow on Node 20: a spread followed by more properties (`{ ...base, more }`), which
 * V8 copies on a slow path, against `Object.assign` of the same. Prints the median CPU time of 7 runs of each.
 * Run alone (`npx tsx bench/event-rows.ts`); compare figures within one run.
 */
import { createWorld, generateEvents } from '../src/demo/index.js';
import { Event } from '../src/ingest/schema.js';
import { engineRows } from '../src/pipeline/store-worker.js';
import { eventRows } from '../src/storage/tables/events.js';
import { medianCpuMs } from './cpu-time.js';

const RUNS = 7;
const world = createWorld({ seed: 1 });
const events = generateEvents(world, { seed: 1, from: new Date('2026-03-01T00:00:00+08:00'), to: new Date('2026-05-01T00:00:00+08:00'), visitsPerDay: 200 })
  .map((input) => Event.parse(input));
const receivedAt = new Date().toISOString();

function median(name: string, count: number, step: () => unknown): void {
  const ms = medianCpuMs(step, RUNS);
  console.log(`${name.padEnd(48)} ${ms.toFixed(1).padStart(7)} ms  (${((ms * 1000) / count).toFixed(2)} µs each)`);
}

const rows = events.flatMap((event) => eventRows(event, receivedAt));
console.log(`${events.length} demo events (${rows.length} rows), median CPU time of ${RUNS} runs`);
median('eventRows (event → insert rows)', events.length, () => events.flatMap((event) => eventRows(event, receivedAt)));
median('engineRows (insert rows → engine events)', rows.length, () => engineRows(rows));

const base = (i: number) => ({ id: `ev-${i}`, type: 'checkin', occurred_at: 'a', received_at: 'b', region: '371402', source: 's', agency_id: '', payload: '{}' });
const more = (i: number) => ({ enterprise_id: `e-${i}`, officer_ids: [], action: 'enter', plan_id: '' });
const N = events.length;
median('{ ...base, 4 more } (8 + 4 properties)', N, () => {
  for (let i = 0; i < N; i++) void { ...base(i), enterprise_id: `e-${i}`, officer_ids: [], action: 'enter', plan_id: '' };
});
median('Object.assign(base, 4 more)', N, () => { for (let i = 0; i < N; i++) Object.assign(base(i), more(i)); });
// An alert candidate's wording values (src/rules/findings.ts): a rule's parameters, a finding's figures, 11 more.
const params = { days: 15, visits: 4, basis: '德州' };
const figures = (i: number) => ({ count: i, other_agency_id: '371400-SCJG', dates: '11月3日、11月9日' });
const named = (i: number) => ({
  enterprise_name: '企业', enterprise_id: `e-${i}`, agency_name: '局', agency_id: 'a', other_agency_name: '—', region: '371402', count: i,
  first: 'f', last: 'l', window_start: 's', window_end: 'e',
});
median('{ ...params, ...figures, 11 more }', N, () => {
  for (let i = 0; i < N; i++) {
    void {
      ...params, ...figures(i), enterprise_name: '企业', enterprise_id: `e-${i}`, agency_name: '局', agency_id: 'a', other_agency_name: '—',
      region: '371402', count: i, first: 'f', last: 'l', window_start: 's', window_end: 'e',
    };
  }
});
median('Object.assign({}, params, figures, 11 more)', N, () => { for (let i = 0; i < N; i++) Object.assign({}, params, figures(i), named(i)); });
