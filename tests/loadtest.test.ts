/**
 * The load test's own parts (loadtest/): the traffic both k6 and the Node twin
 * send, the twin's k6 semantics (executors, thresholds, trends), the k6 script
 * against its scenario files, and one short twin run end to end against a real
 * service (`qingjian start`, embedded ClickHouse, real Redis and WebSockets).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { creditCodeProblem } from '../src/ingest/credit-code.js';
import { Agency, Enterprise, Event } from '../src/ingest/schema.js';
import { complaintsGoTo, loadRuleSet } from '../src/rules/load.js';
import { dueBy, runArrivalRate } from '../loadtest/node/executors.js';
import { Histogram } from '../loadtest/node/histogram.js';
import { Metrics, parseThreshold } from '../loadtest/node/metrics.js';
import { createTraffic, newRun, outcomeCounts, plannedIterations, TRIGGER_AGE_MS, type Plan } from '../loadtest/lib/traffic.js';

const ROOT = resolve(import.meta.dirname, '..');
const LOADTEST = join(ROOT, 'loadtest');
const scenarioFiles = readdirSync(LOADTEST).filter((f) => f.endsWith('.json'));
const readPlan = (file: string) => JSON.parse(readFileSync(join(LOADTEST, file), 'utf8')) as Plan;
const exactPercentile = (sorted: number[], p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('traffic (loadtest/lib/traffic.js)', () => {
  const plan = readPlan('scenario.json');
  const run = newRun(Date.parse('2026-11-23T09:00:00+08:00'), 0.5);
  const traffic = createTraffic(plan, run);

  it('sends events and reference data the API accepts, with valid credit codes', () => {
    const events = [...traffic.iteration('ingest_batch', 0, run.started_at), ...traffic.iteration('ingest_single', 7, run.started_at)];
    for (const e of events) {
      expect(Event.safeParse(e).error?.issues ?? []).toEqual([]);
      expect(creditCodeProblem(e.enterprise_id)).toBeNull();
    }
    const { agencies, enterprises } = traffic.referenceData();
    for (const a of agencies) expect(Agency.safeParse(a).success).toBe(true);
    for (const c of enterprises) expect(Enterprise.safeParse(c).error?.issues ?? []).toEqual([]);
  });

  it('registers every trigger company the planned iterations can reach, and gives none of them today or tomorrow as quiet days', () => {
    const companies = new Set(traffic.referenceData().enterprises.map((c) => c.enterprise_id));
    for (const name of ['ingest_single', 'ingest_batch'] as const) {
      const last = plannedIterations(plan.options.scenarios[name]!) - 1;
      for (const e of traffic.iteration(name, last, run.started_at)) expect(companies.has(e.enterprise_id)).toBe(true);
    }
    fc.assert(fc.property(fc.date({ min: new Date('2026-01-01'), max: new Date('2030-12-31'), noInvalidDate: true }), (date) => {
      const day = createTraffic(plan, newRun(date.getTime(), 0.1)).referenceData().enterprises[0]!.quiet_period as { days_of_month: number[] };
      const today = new Date(date.getTime() + 8 * 3600_000).getUTCDate();
      const d = day.days_of_month[0]!;
      return d !== today && d !== (today % 31) + 1 && d >= 1 && d <= 28;
    }));
  });

  it('sends triggers to cities where no-plan holds, old enough to be decided on arrival, and complaints where only 12345 gets them', async () => {
    const rules = await loadRuleSet(join(ROOT, 'rules'));
    const noPlan = rules.rules.find((r) => r.spec.id === 'no-plan')!;
    for (const file of scenarioFiles) {
      const { regions, complaint_regions } = readPlan(file).traffic;
      for (const region of regions) {
        // Listeners subscribe by city: the rule must hold in the whole city, not only in the district.
        const city = `${region.slice(0, 4)}00`;
        const inForce = noPlan.forRegion(city);
        expect(inForce, `${file}: no-plan in force in ${city}`).not.toBeNull();
        expect(Number(inForce!.params.lateness_minutes) * 60_000, `${file}: no-plan's lateness in ${city}`).toBeLessThan(TRIGGER_AGE_MS);
      }
      for (const region of complaint_regions ?? regions) {
        expect(complaintsGoTo(rules, region, 'hotline'), `${file}: complaints of ${region} to 12345`).toBe(true);
        expect(complaintsGoTo(rules, region, 'feed'), `${file}: complaints of ${region} to the feed`).toBe(false);
      }
    }
    // A trigger happened TRIGGER_AGE_MS before it is sent; every other event, when it is sent.
    const events = traffic.iteration('ingest_batch', 0, run.started_at);
    expect(events.filter((e) => traffic.isTrigger(Number(e.id.split('-').at(-1)))).map((e) => e.occurred_at))
      .toEqual([new Date(run.started_at - TRIGGER_AGE_MS).toISOString()]);
    expect(new Set(events.filter((e) => e.type !== 'checkin' || e.action !== 'enter').map((e) => e.occurred_at)))
      .toEqual(new Set([new Date(run.started_at).toISOString()]));
  });

  it('counts outcomes the way the ids say: one trigger per trigger_every events, complaints apart', () => {
    const events = Array.from({ length: 10 }, (_, i) => traffic.iteration('ingest_batch', i, run.started_at)).flat();
    const counts = outcomeCounts(events, traffic);
    expect(counts).toEqual({
      events: 1000,
      triggers: events.filter((e) => e.type === 'checkin' && e.action === 'enter').length,
      complaints: events.filter((e) => e.type === 'complaint').length,
    });
    expect(counts.triggers).toBe(1000 / plan.traffic.trigger_every);
    // Unique ids and one company per trigger across both scenarios.
    const single = Array.from({ length: 200 }, (_, i) => traffic.iteration('ingest_single', i, run.started_at)).flat();
    const all = [...events, ...single];
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    const triggers = all.filter((e) => e.type === 'checkin' && e.action === 'enter');
    expect(new Set(triggers.map((e) => e.enterprise_id)).size).toBe(triggers.length);
  });
});

describe("the twin's k6 semantics", () => {
  it('judges thresholds as k6 does: percentiles, med, rate, count, on sub-metrics by tag', () => {
    const metrics = new Metrics({
      'http_req_duration{scenario:a}': ['p(99)<100', 'med<52', 'p(50)<20'],
      http_req_failed: ['rate<0.1'],
      dropped_iterations: ['count==0'],
      'events_acked{scenario:b}': ['count>0'],
    });
    for (let i = 1; i <= 100; i++) metrics.add('http_req_duration', i, { scenario: 'a' });
    metrics.add('http_req_duration', 5000, { scenario: 'b' });
    for (let i = 0; i < 20; i++) metrics.add('http_req_failed', i < 2 ? 1 : 0);
    const summary = metrics.summary(10_000, {});
    const a = summary.metrics['http_req_duration{scenario:a}']!;
    expect(a.values.max).toBe(100);
    expect(a.thresholds).toEqual({ 'p(99)<100': { ok: true }, 'med<52': { ok: true }, 'p(50)<20': { ok: false } });
    expect(summary.metrics.http_req_duration!.values.max).toBe(5000);
    expect(summary.metrics.http_req_failed!.values).toEqual({ rate: 0.1, passes: 2, fails: 18 });
    expect(summary.metrics.http_req_failed!.thresholds).toEqual({ 'rate<0.1': { ok: false } });
    expect(summary.metrics.dropped_iterations!.thresholds).toEqual({ 'count==0': { ok: true } });
    // A sub-metric with no samples has count 0: `count>0` fails, as in k6.
    expect(summary.metrics['events_acked{scenario:b}']!.thresholds).toEqual({ 'count>0': { ok: false } });
  });

  it('refuses a threshold it cannot judge, naming it', () => {
    expect(() => parseThreshold('p99<3')).toThrow(/p99<3/);
    expect(() => new Metrics({ http_req_duration: ['p(99) < 250', 'avg<'] })).toThrow(/avg</);
    expect(() => new Metrics({ not_recorded: ['count==0'] })).toThrow(/not_recorded/);
  });

  it('keeps trend percentiles within 1% of the exact ones, and merges split histograms exactly', () => {
    fc.assert(fc.property(fc.array(fc.double({ min: 0.05, max: 60_000, noNaN: true }), { minLength: 1, maxLength: 2000 }), (values) => {
      const whole = new Histogram();
      const left = new Histogram();
      const right = new Histogram();
      values.forEach((v, i) => {
        whole.add(v);
        (i % 2 ? left : right).add(v);
      });
      left.merge(Histogram.from(JSON.parse(JSON.stringify(right.toJSON()))));
      const sorted = [...values].sort((x, y) => x - y);
      for (const p of [50, 90, 99]) {
        const exact = exactPercentile(sorted, p);
        expect(Math.abs(whole.percentile(p) - exact)).toBeLessThanOrEqual(exact * 0.0101);
        expect(left.percentile(p)).toBe(whole.percentile(p));
      }
      expect(whole.percentile(100)).toBe(sorted.at(-1));
    }));
  });

  it('starts exactly the iterations the scenario files plan (constant and ramping arrival rates)', () => {
    for (const file of scenarioFiles) {
      for (const s of Object.values(readPlan(file).options.scenarios)) {
        if (s.executor === 'constant-vus') continue;
        const length = s.stages ? s.stages.reduce((n, st) => n + Number(st.duration.replace('s', '')), 0) : Number(s.duration!.replace('s', ''));
        expect(Math.ceil(dueBy(s, length) - 1e-9), `${file}`).toBe(plannedIterations(s));
      }
    }
    expect(dueBy({ executor: 'ramping-arrival-rate', exec: 'x', startRate: 0, stages: [{ target: 10, duration: '10s' }, { target: 10, duration: '5s' }] }, 10)).toBe(50);
  });

  it('drops iterations that find every VU busy, and counts them', async () => {
    let dropped = 0;
    const outcome = await runArrivalRate(
      { executor: 'constant-arrival-rate', exec: 'x', rate: 50, timeUnit: '1s', duration: '1s', preAllocatedVUs: 2, maxVUs: 2 },
      Date.now(), () => new Promise((r) => setTimeout(r, 300)), () => dropped++,
    );
    expect(outcome.started + outcome.dropped).toBe(50);
    expect(outcome.dropped).toBe(dropped);
    expect(outcome.started).toBeLessThanOrEqual(10);
  });
});

describe('the k6 script (loadtest/qingjian.js)', () => {
  const script = readFileSync(join(LOADTEST, 'qingjian.js'), 'utf8');
  const exported = new Set([...script.matchAll(/^export function (\w+)/gm)].map((m) => m[1]));
  const defined = new Set([...script.matchAll(/new (?:Counter|Trend|Rate)\('(\w+)'/g)].map((m) => m[1]));
  const K6_BUILTIN = new Set(['http_req_duration', 'http_req_failed', 'http_reqs', 'iterations', 'dropped_iterations', 'checks']);

  it('parses, and exports what every scenario file executes; every threshold names a metric the script records', async () => {
    await promisify(execFile)(process.execPath, ['--check', join(LOADTEST, 'qingjian.js')]);
    expect(scenarioFiles.length).toBeGreaterThanOrEqual(3);
    for (const file of scenarioFiles) {
      const plan = readPlan(file);
      for (const [name, s] of Object.entries(plan.options.scenarios)) expect(exported.has(s.exec), `${file}: ${name}.exec ${s.exec}`).toBe(true);
      for (const key of Object.keys(plan.options.thresholds)) {
        const metric = key.replace(/\{.*$/, '');
        expect(K6_BUILTIN.has(metric) || defined.has(metric), `${file}: threshold on ${key}`).toBe(true);
      }
    }
  });
});

describe('npm run load (the Node twin) against a real service', () => {
  it('runs the scenarios, reports the figures, exits 99 on a failed threshold, and verifies rows, alerts and tickets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qj-loadtest-'));
    dirs.push(dir);
    const plan = readPlan('scenario.json');
    plan.options.scenarios = {
      feed: { executor: 'constant-vus', exec: 'feed', vus: 20, duration: '12s' },
      ingest_single: { executor: 'constant-arrival-rate', exec: 'ingestSingle', startTime: '1s', duration: '4s', rate: 10, timeUnit: '1s', preAllocatedVUs: 5, maxVUs: 50 },
      ingest_batch: { executor: 'constant-arrival-rate', exec: 'ingestBatch', startTime: '1s', duration: '4s', rate: 1, timeUnit: '1s', preAllocatedVUs: 2, maxVUs: 10 },
      reads: { executor: 'constant-arrival-rate', exec: 'reads', startTime: '1s', duration: '4s', rate: 2, timeUnit: '1s', preAllocatedVUs: 2, maxVUs: 10 },
    };
    // An alert per 20 events: enough triggers for the listeners to count (40 single, 400 batched events).
    plan.traffic.trigger_every = 20;
    // Every threshold of the shipped file, plus one no service can meet: the run must fail it and say so.
    plan.options.thresholds['http_req_duration{scenario:reads}'] = ['p(99)<0.001'];
    const scenario = join(dir, 'tiny.json');
    writeFileSync(scenario, JSON.stringify(plan));
    const out = join(dir, 'summary.json');
    const child = spawn(process.execPath, ['--import', 'tsx', 'loadtest/node/run.ts', '--scenario', scenario, '--out', out], { cwd: ROOT });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((r) => child.on('exit', r));

    expect(code, output).toBe(99);
    expect(output).toMatch(/✗ http_req_duration\{scenario:reads\}\s+'p\(99\)<0\.001'/);
    expect(output).toMatch(/✓ http_req_failed\s+'rate<0\.001'\s+rate=0\.000%/);
    expect(output).toContain('result: THRESHOLDS FAILED');
    expect(output).toMatch(/each of 20 listeners received every alert of its city once/);
    const summary = JSON.parse(readFileSync(out, 'utf8'));
    const acked = summary.metrics.events_acked.values.count;
    const triggers = summary.metrics.triggers_acked.values.count;
    // 4 s × (10 single + 100 batched) events/s, every one acknowledged.
    expect(acked).toBe(440);
    expect(summary.metrics.events_sent.values.count).toBe(acked);
    expect(triggers).toBe(acked / plan.traffic.trigger_every);
    expect(summary.metrics.alert_latency.values.count).toBeGreaterThan(0);
    // Every listener got every alert of its city: nothing missed, none dropped (as k6's listeners count them).
    expect(output).toMatch(/✓ alerts_received\s+'count>0'/);
    expect(output).toMatch(/✓ feed_alerts_missed\s+'count==0'\s+count=0/);
    expect(output).toContain('feed connections: failed 0, closed by the server 0; alerts the listeners missed: 0');
    // Escalation timers wait two hours on purpose: they are counted apart from the queues' backlog, not in it.
    expect(output).toMatch(/most jobs ready or running at once: store \d+, evaluate \d+, hotline \d+, escalation 0;/);
    expect(output).toMatch(/most jobs delayed on purpose at once \(deadlines, timers, retries\): store \d+, evaluate \d+, hotline \d+, escalation [1-9]\d*/);
    // Measured from the moment a trigger was sent, not from its event time TRIGGER_AGE_MS earlier.
    expect(summary.metrics.alert_latency.values.min).toBeGreaterThanOrEqual(0);
    expect(summary.metrics.alert_latency.values.max).toBeLessThan(TRIGGER_AGE_MS / 2);
    expect(output).toMatch(new RegExp(`✓ stored rows \\(events FINAL\\)\\s+expected\\s+${acked}\\s+found\\s+${acked}`));
    expect(output).toMatch(new RegExp(`✓ no-plan alerts\\s+expected\\s+${triggers}\\s+found\\s+${triggers}`));
    expect(output).toMatch(/✓ alerts of any other rule\s+expected\s+0\s+found\s+0/);
    expect(output).not.toMatch(/VERIFY[\s\S]*✗/);
  }, 180_000);
});
