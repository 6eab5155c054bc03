import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLEARED } from '../src/alerts/model.js';
import { DAY } from '../src/calendar/index.js';
import { createWorld, generateEvents } from '../src/demo/index.js';
import { Event } from '../src/ingest/schema.js';
import { backtest, formatBacktestReport } from '../src/rules/backtest.js';
import { companyFacts } from '../src/rules/events.js';
import { loadRuleSet, type RuleSet } from '../src/rules/load.js';
import { simulate } from '../src/rules/simulate.js';
import { eventually, post, put, startTestService, type TestService } from './support/service.js';

// A backtest reads stored history and concludes what the live engine would have.
let service: TestService;
let current: RuleSet;
let events: Event[];
const world = createWorld({ seed: 31, enterprisesPerRegion: 60, regions: ['370600'] });
const to = new Date(Date.now() - 20 * DAY);
const from = new Date(to.getTime() - 40 * DAY);

beforeAll(async () => {
  service = await startTestService({ STORE_BATCH_WAIT_MS: '20', RULES_WATCH: 'false' });
  current = await loadRuleSet(service.config.RULES_DIR);
  await put(`${service.url}/v1/enterprises`, world.enterprises);
  await put(`${service.url}/v1/agencies`, world.agencies);
  events = generateEvents(world, { seed: 9, from, to, visitsPerDay: 15, violationRate: 0.3, idPrefix: 'bt' }).map((e) => Event.parse(e));
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
    companies: world.enterprises.map(companyFacts),
    agencyNames: new Map(world.agencies.map((a) => [a.agency_id, a.name])),
    arrivals: events.map((event) => ({ at: Date.parse(event.occurred_at), event })),
    until: Date.now(),
  }).filter((a) => a.resolution !== CLEARED && Date.parse(a.anchor_at) >= from.getTime() && Date.parse(a.anchor_at) <= to.getTime());
}

it.each(['no-plan', 'frequent-visits', 'quiet-period', 'annual-cap', 'entry-without-scan'])(
  'finds what the live engine finds for %s', async (ruleId) => {
    const report = await backtest(service.storage, { current, ruleId, from, to });
    const expected = engineAlerts(current, ruleId);
    expect(report.alerts).toBe(expected.length);
    expect(report.by_day.reduce((n, d) => n + d.alerts, 0)).toBe(expected.length);
    expect(report.companies).toBeGreaterThan(0);
    expect(report.diff).toBeNull();
  },
);

it('reports the difference an edited rule makes, without storing anything', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qingjian-candidate-'));
  try {
    cpSync(service.config.RULES_DIR, dir, { recursive: true });
    const file = join(dir, 'no-plan.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('version: 1', 'version: 2').replace('lead_days: 7', 'lead_days: 3'));
    const candidate = await loadRuleSet(dir);
    const alertsBefore = await service.storage.query<{ n: number }>('SELECT count() AS n FROM alerts');

    const report = await backtest(service.storage, { current, candidate, ruleId: 'no-plan', from, to });
    expect(report.candidate_version).toBe(2);
    expect(report.alerts).toBe(engineAlerts(candidate, 'no-plan').length);
    const diff = report.diff!;
    // A shorter lead time turns some late-plan alerts into no alert at all, and never adds one.
    expect(diff.added).toBe(0);
    expect(diff.removed + diff.changed).toBeGreaterThan(0);
    expect(diff.unchanged + diff.changed).toBe(report.alerts);
    expect(formatBacktestReport(report)).toContain('difference from v1');
    expect(await service.storage.query<{ n: number }>('SELECT count() AS n FROM alerts')).toEqual(alertsBefore);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('names a rule that does not exist', async () => {
  await expect(backtest(service.storage, { current, ruleId: 'no-such-rule', from, to })).rejects.toThrow(/no rule "no-such-rule"/);
});
