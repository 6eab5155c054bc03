import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Event } from '../src/ingest/schema.js';
import { companyFacts } from '../src/rules/events.js';
import { absence } from '../src/rules/kinds/absence.js';
import { loadRuleSet } from '../src/rules/load.js';
import { simulate } from '../src/rules/simulate.js';
import { checkin, creditCode, inspection } from './support/fixtures.js';

// The rule language beyond what the five shipped rules use: a city can write these without code.
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A rule directory holding one rule (in force everywhere, or where `regions` — a policy map — says). */
async function ruleFrom(yaml: string, regions?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'qingjian-kind-'));
  dirs.push(dir);
  cpSync(join(import.meta.dirname, '..', 'rules', 'lib'), join(dir, 'lib'), { recursive: true });
  const id = /^id: (\S+)/m.exec(yaml)![1];
  writeFileSync(join(dir, `${id}.yaml`), yaml);
  if (regions) writeFileSync(join(dir, 'regions.yaml'), regions);
  return (await loadRuleSet(dir)).rules;
}

const HEADER = (id: string, kind: string, extra = '') => `id: ${id}
version: 1
kind: ${kind}
title: { zh: 测试, en: Test }
message: { zh: "{{enterprise_name}} {{count}}", en: "{{enterprise_name}} {{count}}" }
severity: medium
mode: active
source: { document: yunhe-2025-ten-mechanisms.txt, clause: test }
${extra}`;

const DEZHOU = { enterprise_id: creditCode('371402', 11), name: '德州甲', region: '371402', credit_grade: 'C' as const, whitelisted: false };
const YANTAI = { enterprise_id: creditCode('370602', 12), name: '烟台乙', region: '370602', credit_grade: 'C' as const, whitelisted: false };

function run(rules: Awaited<ReturnType<typeof ruleFrom>>, events: Array<Record<string, unknown>>) {
  const parsed = events.map((e) => Event.parse(e));
  return simulate({
    rules,
    companies: [DEZHOU, YANTAI].map(companyFacts),
    agencyNames: new Map(),
    arrivals: parsed.map((event) => ({ at: Date.parse(event.occurred_at), event })),
    until: Date.parse('2027-06-01T00:00:00+08:00'),
  });
}

const visit = (company: typeof DEZHOU, at: string, extra: Record<string, unknown> = {}) =>
  checkin({ enterprise_id: company.enterprise_id, region: company.region, occurred_at: at, ...extra });

describe('threshold', () => {
  it('counts per calendar month and per distinct agency, with the policy map\'s parameters by longest prefix', async () => {
    const rules = await ruleFrom(HEADER('agencies-per-month', 'threshold', `params: { at_least: 3 }
detect:
  match: { use: onsite_entry }
  group_by: [enterprise_id]
  count: { distinct: agency_id }
  window: { calendar: month }
  at_least: $at_least
`), `regions:
  - { prefix: "37", name: 山东省, source: { document: x.txt, clause: test }, rules: { agencies-per-month: { params: { at_least: 2 } } } }
  - { prefix: "3706", name: 烟台市, source: { document: x.txt, clause: test }, rules: { agencies-per-month: { params: { at_least: 4 } } } }
`);
    const twoAgencies = (c: typeof DEZHOU, month: string) => [
      visit(c, `2026-${month}-03T10:00:00+08:00`, { agency_id: 'A-1' }),
      visit(c, `2026-${month}-05T10:00:00+08:00`, { agency_id: 'A-1' }),
      visit(c, `2026-${month}-20T10:00:00+08:00`, { agency_id: 'A-2' }),
    ];
    const alerts = run(rules, [...twoAgencies(DEZHOU, '03'), ...twoAgencies(YANTAI, '03'),
      visit(DEZHOU, '2026-04-30T23:00:00+08:00', { agency_id: 'A-1' }), visit(DEZHOU, '2026-05-01T01:00:00+08:00', { agency_id: 'A-2' })]);
    // 37 → 2 distinct agencies a month suffice in 德州; 3706 (烟台) needs 4; April/May straddle two months.
    expect(alerts.map((a) => [a.enterprise_id, a.count, a.figures.period])).toEqual([[DEZHOU.enterprise_id, 2, '2026-03']]);
  });
});

describe('calendar', () => {
  it('can restrict a period to working days, following adjusted working weekends', async () => {
    const rules = await ruleFrom(HEADER('month-start-working-days', 'calendar', `detect:
  match: { use: onsite_entry }
  period: { days_of_month: ["1..12"], days: working }
`));
    // October 2026: 1–7 National Day holiday, Saturday 10 an adjusted working day, Sunday 11 a weekend.
    const alerts = run(rules, ['2026-10-03', '2026-10-09', '2026-10-10', '2026-10-11'].map((d, i) =>
      visit(DEZHOU, `${d}T10:00:00+08:00`, { id: `w${i}` })));
    expect(alerts.map((a) => a.evidence[0]!.event_id).sort()).toEqual(['w1', 'w2']);
  });
});

describe('cap', () => {
  it('caps per month with a limit chosen by grade, and conditions with not / exists', async () => {
    const rules = await ruleFrom(HEADER('monthly-cap', 'cap', `detect:
  match: { type: inspection, onsite: true, outcome: { not: [penalty, case_opened] }, plan_id: { exists: false } }
  group_by: [enterprise_id]
  period: month
  count: events
  limit: { by: credit_grade, values: { C: 1 } }
`));
    const record = (id: string, day: string, extra: Record<string, unknown> = {}) => inspection({
      id, enterprise_id: DEZHOU.enterprise_id, occurred_at: `2026-03-${day}T15:00:00+08:00`, started_at: `2026-03-${day}T10:00:00+08:00`, ended_at: undefined, ...extra,
    });
    const quiet = run(rules, [record('r1', '02'), record('r2', '09', { outcome: 'penalty' }), record('r3', '16', { plan_id: 'P-1' })]);
    expect(quiet).toEqual([]);
    const [alert] = run(rules, [record('r1', '02'), record('r4', '20')]);
    expect(alert).toMatchObject({ count: 2, figures: { limit: 1, period: '2026-03' } });
    expect(alert!.evidence.map((e) => [e.event_id, e.role])).toEqual([['r1', 'counted'], ['r4', 'over_limit']]);
  });
});

describe('what a change can reach', () => {
  it("a check-in reaches only its own day in no-plan; a plan (or an unknown change) reaches the visits it may cover", async () => {
    const set = await loadRuleSet(join(import.meta.dirname, '..', 'rules'));
    const rule = set.rules.find((r) => r.spec.id === 'no-plan')!.forRegion('370602')!;
    const at = Date.parse('2026-03-20T10:00:00+08:00');
    const day = (iso: string) => Date.parse(`${iso}T00:00:00+08:00`);
    expect(absence.decideRange(rule, at, at, ['checkin'])).toEqual([day('2026-03-20'), day('2026-03-21') - 1]);
    expect(absence.decideRange(rule, at, at, ['inspection', 'checkin'])).toEqual([day('2026-03-20'), day('2026-03-21') - 1]);
    const [, planReach] = absence.decideRange(rule, at, at, ['plan']);
    expect(planReach).toBeGreaterThan(day('2027-03-20'));
    expect(absence.decideRange(rule, at, at)).toEqual(absence.decideRange(rule, at, at, ['plan', 'checkin']));
  });
});
