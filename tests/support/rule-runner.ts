import { parentPort } from 'node:worker_threads';
import { Event } from '../../src/ingest/schema.js';
import { spanFilter } from '../../src/rules/context.js';
import type { CompiledRule } from '../../src/rules/compile.js';
import { contextNeeds, evaluateCompany, influence, mergeNeeds } from '../../src/rules/engine.js';
import { byTime, fromEvent, type CompanyFacts } from '../../src/rules/events.js';
import { loadRuleSet, RuleSetError, type Problem } from '../../src/rules/load.js';
import { simulate } from '../../src/rules/simulate.js';
import { runRuleTests } from '../../src/rules/testing.js';
import { creditCode } from './fixtures.js';

/**
 * Runs in a worker thread (tests/properties.rules.test.ts): loads a rule directory with the real loader
 * and, when it loads, runs the engine the way the workers do, so the test can bound the time of each run
 * by terminating this thread — a synchronous hang cannot be interrupted any other way.
 */
export interface RunRequest {
  id: number;
  dir: string;
  /** Also run the rule tests beside the rules, as a reload does. */
  tests: boolean;
}

export type RunResult =
  | { id: number; outcome: 'loaded'; digest: string; rules: string[]; exercised: string; testFailures: number; testProblems: Problem[] }
  | { id: number; outcome: 'problems'; problems: Problem[] }
  | { id: number; outcome: 'threw'; error: string };

const COMPANIES: CompanyFacts[] = [
  { enterprise_id: creditCode('371402', 7001), name: '德州测试企业', region: '371402', credit_grade: 'C', whitelisted: false, quiet_days: null, deregistered_on: null },
  { enterprise_id: creditCode('370602', 7002), name: '烟台测试企业', region: '370602', credit_grade: 'B', whitelisted: false, quiet_days: [-15, -14, -1], deregistered_on: null },
];

/** A month of ordinary traffic for each company: visits with and without plans, an urgent one, a record, a complaint. */
function traffic(company: CompanyFacts) {
  const at = (day: number, hour = 10) => new Date(Date.parse('2026-03-01T00:00:00+08:00') + day * 86_400_000 + hour * 3_600_000).toISOString();
  const base = { region: company.region, source: 'rule-runner', agency_id: `${company.region}-SCJG` };
  const checkin = (id: string, day: number, extra: object = {}) => ({
    ...base, id, type: 'checkin', occurred_at: at(day), enterprise_id: company.enterprise_id, officer_ids: ['o1'], action: 'enter', method: 'qr', ...extra,
  });
  return [
    { ...base, id: `${company.region}-p1`, type: 'plan', occurred_at: at(0), enterprise_ids: [company.enterprise_id], window_start: '2026-03-03', window_end: '2026-03-12', mode: 'onsite', status: 'filed' },
    checkin(`${company.region}-c1`, 2),
    checkin(`${company.region}-c2`, 5, { method: 'manual', urgent_reason: 'emergency' }),
    checkin(`${company.region}-c3`, 9),
    checkin(`${company.region}-c4`, 12, { urgent_reason: 'complaint' }),
    checkin(`${company.region}-c5`, 25),
    checkin(`${company.region}-c6`, 29),
    { ...base, id: `${company.region}-i1`, type: 'inspection', occurred_at: at(6), enterprise_id: company.enterprise_id, officer_ids: ['o1'], started_at: at(5), onsite: true },
    { ...base, id: `${company.region}-i2`, type: 'inspection', occurred_at: at(26), enterprise_id: company.enterprise_id, officer_ids: ['o1'], started_at: at(25), onsite: true },
    { ...base, id: `${company.region}-x1`, type: 'complaint', occurred_at: at(7), enterprise_id: company.enterprise_id, category: 'no_scan', channel: '12345', text: '未亮码' },
  ].map((e) => Event.parse(e));
}

/** What an evaluate worker does with a rule set: context spans, the SQL filter, one evaluation, deferred decisions; then a replay. */
function exercise(rules: readonly CompiledRule[]): string {
  const now = Date.parse('2026-03-31T18:00:00+08:00');
  let candidates = 0;
  let alerts = 0;
  for (const company of COMPANIES) {
    const raw = traffic(company);
    const events = raw.flatMap(fromEvent).sort(byTime);
    const changed = influence(events);
    spanFilter(mergeNeeds(contextNeeds(rules, company.region, changed)));
    const result = evaluateCompany(rules, { company, events, changed, now, naming: { agencyName: (id) => id } });
    for (const p of result.pending) {
      if (!Number.isFinite(p.at) || !Number.isFinite(p.anchor)) throw new Error(`${p.rule_id}: a decision deferred to ${p.at} (anchor ${p.anchor})`);
    }
    candidates += result.candidates.length;
    alerts += simulate({ rules, companies: [company], agencyNames: new Map(), arrivals: raw.map((event) => ({ at: Date.parse(event.occurred_at), event })), until: now }).length;
  }
  return `${candidates} candidates, ${alerts} simulated alerts`;
}

async function run(request: RunRequest): Promise<RunResult> {
  const { id } = request;
  try {
    const set = await loadRuleSet(request.dir);
    const exercised = exercise(set.rules);
    const report = request.tests ? await runRuleTests(set) : { problems: [], results: [] };
    return {
      id, outcome: 'loaded', digest: set.digest, rules: set.rules.map((r) => r.spec.id), exercised,
      testFailures: report.results.filter((r) => r.failures.length > 0).length, testProblems: report.problems,
    };
  } catch (err) {
    if (err instanceof RuleSetError) return { id, outcome: 'problems', problems: err.problems };
    return { id, outcome: 'threw', error: `${(err as Error).name}: ${(err as Error).message}\n${(err as Error).stack ?? ''}` };
  }
}

parentPort?.on('message', (request: RunRequest) => {
  void run(request).then((result) => parentPort!.postMessage(result));
});
