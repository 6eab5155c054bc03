/**
 * What validating the rule engine's context rows costs: 100,000 rows of `events` as ClickHouse returns them
 * (JSONEachRow text), through the steps of readEvents. Prints the median of 7 runs of each step:
 * - JSON.parse of the text (what the storage adapter does today, for scale);
 * - the conversion to engine events alone (as if the rows were cast, the way `query<T>` did before);
 * - the zod validation of src/storage/tables/events.ts plus the same conversion (what readEvents does now).
 * Times are CPU milliseconds of this process. Run alone (`npx tsx bench/table-rows.ts`); compare figures within one run.
 */
import { fromStoredRow } from '../src/rules/events.js';
import { EngineEventRow, type EngineEventRow as Row } from '../src/storage/tables/events.js';
import { parseRows } from '../src/storage/tables/query.js';
import { medianCpuMs } from './cpu-time.js';

const ROWS = 100_000;
const RUNS = 7;

function row(i: number): Row {
  const visit = i % 3 !== 0;
  return {
    id: `ev-${i}`, type: visit ? 'checkin' : 'plan', enterprise_id: `91371402MA${String(i % 5000).padStart(8, '0')}`,
    occurred_at: '2026-11-20 01:30:00.123', region: '371402', source: 'dezhou-app', agency_id: '371400-SCJG',
    officer_ids: visit ? ['371400-SCJG-001', '371400-SCJG-002'] : [], action: visit ? 'enter' : '', method: visit ? 'qr' : '',
    onsite: true, purpose: visit ? 'inspection' : '', plan_id: visit ? '' : `pl-${i}`, urgent_reason: '', national_basis: '',
    started_at: null, ended_at: null, outcome: '', matters: [], remedies: '', credit_repair: '', score: null, window_start: visit ? null : '2026-11-18', window_end: visit ? null : '2026-11-22',
    mode: visit ? '' : 'onsite', status: visit ? '' : 'filed', joint_agency_ids: [], replaces: [], reviewed_by: '', category: '', channel: '',
    filing_kind: '', filed_with: '', approved_by: '',
  };
}

const text = Array.from({ length: ROWS }, (_, i) => JSON.stringify(row(i))).join('\n');
const parsed = text.split('\n').map((line) => JSON.parse(line) as unknown);

function median(name: string, step: () => unknown): number {
  const ms = medianCpuMs(step, RUNS);
  console.log(`${name.padEnd(44)} ${ms.toFixed(1).padStart(7)} ms  (${((ms * 1000) / ROWS).toFixed(2)} µs/row)`);
  return ms;
}

console.log(`${ROWS} rows of events, median CPU time of ${RUNS} runs`);
median('JSON.parse of the JSONEachRow text', () => text.split('\n').map((line) => JSON.parse(line) as unknown));
const cast = median('conversion alone (rows cast)', () => (parsed as Row[]).map(fromStoredRow));
const validated = median('zod validation + conversion (readEvents now)', () => parseRows('events.inSpans', EngineEventRow, parsed).map(fromStoredRow));
console.log(`validation costs ${(((validated - cast) * 1000) / ROWS).toFixed(2)} µs per row`);
