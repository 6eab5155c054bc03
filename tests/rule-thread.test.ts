import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, generateEvents } from '../src/demo/index.js';
import { DEMO_REGIONS } from '../src/demo/catalogue.js';
import { Event } from '../src/ingest/schema.js';
import { createLogger } from '../src/log.js';
import { createMetrics, type Metrics } from '../src/metrics/index.js';
import { createCompanyEvaluator, type CompanyEvaluator, type CompanyToEvaluate } from '../src/pipeline/rule-thread/index.js';
import { influence } from '../src/rules/engine.js';
import { byTime, companyFacts, fromEvent, type EngineEvent } from '../src/rules/events.js';
import { loadRuleSet, type RuleSet } from '../src/rules/load.js';

/**
 * The rules on their own thread decide exactly what they decide on the main thread: the same candidates,
 * scopes and pending decisions for every company of a demo world with two months of history in every demo
 * region, and the same per-rule timings reported. A rule set the thread cannot load (its files edited since)
 * is decided on the main thread instead, not lost and not decided by other rules.
 */
const DAY = 86_400_000;
const SHIPPED = join(import.meta.dirname, '..', 'rules');
const log = createLogger('silent');
const now = Date.now();
const dirs: string[] = [];
const evaluators: CompanyEvaluator[] = [];
afterAll(async () => {
  await Promise.all(evaluators.map((e) => e.close()));
  dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

function evaluator(thread: boolean): { evaluator: CompanyEvaluator; metrics: Metrics } {
  const metrics = createMetrics({ role: 'worker', version: 'test' });
  const made = createCompanyEvaluator({ thread, log, metrics });
  evaluators.push(made);
  return { evaluator: made, metrics };
}

const chunksOn = async (metrics: Metrics, thread: 'rules' | 'main') =>
  (await metrics.ruleChunks.get()).values.find((v) => v.labels.thread === thread)?.value ?? 0;

let set: RuleSet;
let companies: CompanyToEvaluate[];
let names: Map<string, string>;

beforeAll(async () => {
  set = await loadRuleSet(SHIPPED);
  const world = createWorld({ seed: 20261205, enterprisesPerRegion: 12, regions: DEMO_REGIONS.map((r) => r.code) });
  const inputs = generateEvents(world, { seed: 20261205, from: new Date(now - 60 * DAY), to: new Date(now), visitsPerDay: 40, violationRate: 0.4, idPrefix: 'thread' });
  const byCompany = new Map<string, EngineEvent[]>();
  for (const input of inputs) {
    for (const event of fromEvent(Event.parse(input))) {
      byCompany.set(event.enterprise_id, [...(byCompany.get(event.enterprise_id) ?? []), event]);
    }
  }
  companies = world.enterprises.map((enterprise) => {
    const events = (byCompany.get(enterprise.enterprise_id) ?? []).sort(byTime);
    return { company: companyFacts(enterprise), events, changed: events.length > 0 ? influence(events) : { from: now - DAY, to: now } };
  });
  names = new Map(world.agencies.map((a) => [a.agency_id, a.name]));
});

describe('the rule thread', () => {
  it('decides every company as the main thread does, and reports the same rules timed', async () => {
    const here = evaluator(false);
    const there = evaluator(true);
    const timedHere: string[] = [];
    const timedThere: string[] = [];
    const onMain = await here.evaluator.evaluate(set, now, names, companies, (rule) => timedHere.push(rule));
    const onThread = await there.evaluator.evaluate(set, now, names, companies, (rule) => timedThere.push(rule));

    // A world that breaks many rules, so the comparison compares something.
    const raised = new Set(onMain.flatMap((r) => r.candidates.map((c) => c.rule_id)));
    expect(raised.size).toBeGreaterThanOrEqual(6);
    expect(onMain.flatMap((r) => r.pending).length).toBeGreaterThan(0);
    expect(onThread).toEqual(onMain);
    expect(timedThere.sort()).toEqual(timedHere.sort());
    expect(await chunksOn(there.metrics, 'rules')).toBe(1);
    expect(await chunksOn(there.metrics, 'main')).toBe(0);
    expect(await chunksOn(here.metrics, 'main')).toBe(1);

    // The same thread serves one chunk after another, and several at once.
    const chunks = [companies.slice(0, 20), companies.slice(20, 45), companies.slice(45)];
    const together = await Promise.all(chunks.map((chunk) => there.evaluator.evaluate(set, now, names, chunk, () => {})));
    expect(together.flat()).toEqual(onMain);
    expect(await chunksOn(there.metrics, 'rules')).toBe(4);
  });

  it('decides a set whose files were edited since it loaded on the main thread, with that set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qingjian-rule-thread-'));
    dirs.push(dir);
    cpSync(SHIPPED, dir, { recursive: true });
    const loaded = await loadRuleSet(dir);
    // An edit the main thread has not made live (a reload not yet run, or refused by the rule tests).
    appendFileSync(join(dir, 'frequent-visits.yaml'), '\n# edited\n');
    const there = evaluator(true);
    const expected = await evaluator(false).evaluator.evaluate(loaded, now, names, companies, () => {});
    expect(await there.evaluator.evaluate(loaded, now, names, companies, () => {})).toEqual(expected);
    expect(await chunksOn(there.metrics, 'main')).toBe(1);
    expect(await chunksOn(there.metrics, 'rules')).toBe(0);

    // The edited set, once live, is the thread's to decide.
    const edited = await loadRuleSet(dir);
    expect(edited.digest).not.toBe(loaded.digest);
    await there.evaluator.evaluate(edited, now, names, companies.slice(0, 5), () => {});
    expect(await chunksOn(there.metrics, 'rules')).toBe(1);
  });
});

describe('when the thread cannot take a chunk', () => {
  it('decides it on the main thread, and keeps the thread for the next', async () => {
    const there = evaluator(true);
    const expected = await evaluator(false).evaluator.evaluate(set, now, names, companies.slice(0, 10), () => {});
    // A value no thread can be sent (a function) stands for any chunk that cannot be copied.
    const uncopiable = companies.slice(0, 10).map((c, i) => (i === 0 ? { ...c, company: { ...c.company, extra: () => 1 } } : c));
    expect(await there.evaluator.evaluate(set, now, names, uncopiable, () => {})).toEqual(expected);
    expect(await chunksOn(there.metrics, 'main')).toBe(1);
    expect(await there.evaluator.evaluate(set, now, names, companies.slice(0, 10), () => {})).toEqual(expected);
    expect(await chunksOn(there.metrics, 'rules')).toBe(1);
  });
});
