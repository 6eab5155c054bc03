import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Event } from '../src/ingest/schema.js';
import { checkPlan, type CheckInput } from '../src/plans/check.js';
import { answerOf, type CompanyCheck, type PlanCheck, type PlanUnderCheck } from '../src/plans/model.js';
import { byTime, fromEvent, type CompanyFacts, type EngineEvent } from '../src/rules/events.js';
import { loadRuleSet } from '../src/rules/load.js';
import { withHolidayCalendar } from '../src/calendar/index.js';

/**
 * The plan check's findings under the shipped rules and policy map (rules/):
 * each figure read from the rule in force in the company's region, each
 * boundary (the cap, 下旬, 15 days, 5 working days across a weekend and a
 * holiday, the white list). Through HTTP and storage: tests/plans.pipeline.test.ts.
 */
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const set = await loadRuleSet(join(root, 'rules'));

const YUNHE = '91331125MA00000013';
const DEZHOU = '91371402MA0000001Q';
const LAIZHOU = '91370683MA00000011';
const companies: CompanyFacts[] = [
  { enterprise_id: YUNHE, name: '云和示例木玩有限公司', region: '331125', credit_grade: 'B', whitelisted: false, quiet_days: null, deregistered_on: null },
  { enterprise_id: DEZHOU, name: '德州示例机械有限公司', region: '371402', credit_grade: 'C', whitelisted: false, quiet_days: null, deregistered_on: null },
  { enterprise_id: LAIZHOU, name: '莱州示例石材有限公司', region: '370683', credit_grade: 'C', whitelisted: true, quiet_days: null, deregistered_on: null },
];

let serial = 0;
function visit(enterprise: string, region: string, agency: string, at: string): EngineEvent[] {
  return fromEvent(Event.parse({
    id: `v${++serial}`, type: 'checkin', occurred_at: at, region, source: 'test', enterprise_id: enterprise, agency_id: agency,
    officer_ids: ['officer-1'], action: 'enter', method: 'qr',
  }));
}

function check(plan: Partial<PlanUnderCheck> & Pick<PlanUnderCheck, 'region' | 'agency_id' | 'enterprise_ids' | 'window_start' | 'window_end'>, now: string, events: EngineEvent[] = []): PlanCheck {
  const byCompany = new Map<string, EngineEvent[]>();
  for (const e of events) byCompany.set(e.enterprise_id, [...(byCompany.get(e.enterprise_id) ?? []), e].sort(byTime));
  const input: CheckInput = {
    plan: { plan_id: null, mode: 'onsite', joint_agency_ids: [], matters: [], reviewed_by: '', replaces: [], filed_at: Date.parse(now), status: 'filed', ...plan },
    rules: set.rules, policy: set.policy, companies: new Map(companies.map((c) => [c.enterprise_id, c])), events: byCompany,
    agencies: new Map([['331125-SCJG', { name: '云和县市场监督管理局', region: '331125' }]]), now: Date.parse(now),
  };
  return withHolidayCalendar(set.calendar, () => checkPlan(input));
}

const finding = (result: PlanCheck, name: string) => result.companies[0]!.findings.find((f) => f.check === name);
const yunhePlan = { region: '331125', agency_id: '331125-SCJG', enterprise_ids: [YUNHE] };

describe('the plan check under the rules in force in 云和', () => {
  it('云和(六) B类每年不得高于1次: one visit so far leaves none; the check is a breach and suggests 线上 and 取消', () => {
    const result = check({ ...yunhePlan, window_start: '2026-06-08', window_end: '2026-06-09' }, '2026-05-25T09:00:00+08:00',
      visit(YUNHE, '331125', '331125-SCJG', '2026-02-10T10:00:00+08:00'));
    expect(finding(result, 'annual_cap')).toMatchObject({
      rule_id: 'annual-cap', level: 'breach', figures: { grade: 'B', limit: 1, visits_so_far: 1, remaining: 0, year: 2026 },
      source: { document: 'yunhe-2025-ten-mechanisms.txt', clause: expect.stringContaining('年度内原则上不超过两次') },
    });
    expect(result.companies[0]!.verdict).toBe('breach');
    expect(result.companies[0]!.suggestions.map((s) => s.action)).toEqual(['online', 'cancel']);
  });

  it('云和(六) B类: with no visit this year one remains, and that is no finding against the plan', () => {
    const result = check({ ...yunhePlan, window_start: '2026-06-08', window_end: '2026-06-09' }, '2026-05-25T09:00:00+08:00',
      visit(YUNHE, '331125', '331125-SCJG', '2025-12-31T10:00:00+08:00'));
    expect(finding(result, 'annual_cap')).toMatchObject({ level: 'ok', figures: { visits_so_far: 0, remaining: 1 } });
    expect(result.verdict).toBe('ok');
    expect(result.companies[0]!.suggestions).toEqual([]);
  });

  it('云和(三) 下旬 (grade B from the 16th): the window\'s quiet days are counted, and 变更 finds the nearest clear window', () => {
    // 10..17 June: the 16th and 17th are in a grade B company's quiet period; the nearest clear 8-day window is 8..15 June.
    const result = check({ ...yunhePlan, window_start: '2026-06-10', window_end: '2026-06-17' }, '2026-05-25T09:00:00+08:00');
    expect(finding(result, 'quiet_period')).toMatchObject({
      rule_id: 'quiet-period', level: 'advise', figures: { quiet_days: 2, window_days: 8, first_quiet_day: '2026-06-16', last_quiet_day: '2026-06-17' },
    });
    expect(result.companies[0]!.suggestions).toContainEqual(expect.objectContaining({ action: 'change', window: { start: '2026-06-08', end: '2026-06-15' } }));
    const inside = check({ ...yunhePlan, window_start: '2026-06-16', window_end: '2026-06-30' }, '2026-05-25T09:00:00+08:00');
    expect(finding(inside, 'quiet_period')).toMatchObject({ level: 'breach', figures: { quiet_days: 15 } });
  });

  it('云和(五) 预告不少于5个工作日 across a weekend: on Monday 16 March a visit on Thursday the 19th is too soon, one from Saturday the 21st (five working days on) is in time', () => {
    const soon = check({ ...yunhePlan, window_start: '2026-03-19', window_end: '2026-03-23' }, '2026-03-16T09:00:00+08:00');
    expect(finding(soon, 'advance_notice')).toMatchObject({
      rule_id: 'advance-notice', level: 'advise',
      figures: { working_days: 5, notice_by: '2026-03-12', first_day_noticeable: '2026-03-21', today: '2026-03-16' },
      source: { document: 'yunhe-2025-ten-mechanisms.txt', clause: expect.stringContaining('预告期限一般不少于5个工作日') },
    });
    const inTime = check({ ...yunhePlan, window_start: '2026-03-23', window_end: '2026-03-23' }, '2026-03-16T18:00:00+08:00');
    expect(finding(inTime, 'advance_notice')).toMatchObject({ level: 'ok', figures: { notice_by: '2026-03-16' } });
  });

  it('云和(五) 预告 across a holiday: a visit on Friday 9 October 2026 must be noticed by 24 September, before 中秋 and 国庆', () => {
    const plan = { ...yunhePlan, window_start: '2026-10-09', window_end: '2026-10-09' };
    expect(finding(check(plan, '2026-09-24T17:00:00+08:00'), 'advance_notice')).toMatchObject({ level: 'ok', figures: { notice_by: '2026-09-24' } });
    expect(finding(check(plan, '2026-09-25T09:00:00+08:00'), 'advance_notice')).toMatchObject({ level: 'advise', figures: { first_day_noticeable: null } });
  });

  it('云和 查前备案: a plan filed before the check is in time, with no lead time in days', () => {
    const result = check({ ...yunhePlan, window_start: '2026-06-08', window_end: '2026-06-08' }, '2026-06-08T08:00:00+08:00');
    expect(finding(result, 'lead_time')).toMatchObject({ rule_id: 'no-plan', level: 'ok', figures: { lead: 0, unit: 'days' } });
  });
});

describe('the plan check elsewhere', () => {
  it('德州 15天4次: three visits by three agencies in the days before make the planned one the fourth; after the window it is not', () => {
    const events = [
      ...visit(DEZHOU, '371402', '371400-YJGL', '2026-06-01T10:00:00+08:00'),
      ...visit(DEZHOU, '371402', '371400-STHJ', '2026-06-04T10:00:00+08:00'),
      ...visit(DEZHOU, '371402', '371400-XFJY', '2026-06-08T10:00:00+08:00'),
    ];
    const plan = { region: '371402', agency_id: '371400-SCJG', enterprise_ids: [DEZHOU] };
    // 15 June is day 15 counted from 1 June (both ends count): the fourth visit; 16 June is not.
    const risky = check({ ...plan, window_start: '2026-06-15', window_end: '2026-06-16' }, '2026-06-09T09:00:00+08:00', events);
    expect(finding(risky, 'frequent_visits')).toMatchObject({
      rule_id: 'frequent-visits', level: 'advise', figures: { visits_around: 3, at_least: 4, most_with_this: 4, risky_days: 1, window_days: 15 },
      source: { document: 'dezhou-2024-digital-supervision.txt', clause: '15天到同一个企业4次就会出现预警信息' },
    });
    expect(risky.companies[0]!.suggestions).toContainEqual(expect.objectContaining({ action: 'change', window: { start: '2026-06-16', end: '2026-06-17' } }));
    // 德州 has no annual cap, quiet period or 预告: those are not checked there.
    expect(risky.companies[0]!.findings.map((f) => f.check).sort()).toEqual(['frequent_visits']);
    const clear = check({ ...plan, window_start: '2026-06-16', window_end: '2026-06-20' }, '2026-06-09T09:00:00+08:00', events);
    expect(finding(clear, 'frequent_visits')).toMatchObject({ level: 'ok', figures: { most_with_this: 3 } });
  });

  it('烟台 白名单: a white-list company\'s plan needs the justice bureau\'s review', () => {
    const plan = { region: '370683', agency_id: '370600-SCJG', enterprise_ids: [LAIZHOU], window_start: '2026-06-20', window_end: '2026-06-20' };
    expect(finding(check(plan, '2026-06-01T09:00:00+08:00'), 'whitelist')).toMatchObject({
      rule_id: 'no-plan', level: 'breach', source: { document: 'yantai-joint-inspection-platform.txt', clause: expect.stringContaining('报同级司法局进行审核') },
    });
    expect(finding(check({ ...plan, reviewed_by: 'justice_bureau' }, '2026-06-01T09:00:00+08:00'), 'whitelist')).toMatchObject({ level: 'ok' });
  });

  it('the answer over HTTP has each clause and reason once: findings and suggestions name them by key, a second value under one name gets a second key', () => {
    const plan = { region: '370683', agency_id: '370600-SCJG', enterprise_ids: [LAIZHOU, '91370683MA00000020'], window_start: '2026-06-02', window_end: '2026-06-20' };
    const result = check(plan, '2026-06-01T09:00:00+08:00');
    const answer = answerOf(result);
    const cited = result.companies.flatMap((c) => c.findings.map((f) => f.source));
    expect(Object.keys(answer.sources).length).toBe(new Set(cited.map((c) => `${c.document} ${c.clause}`)).size);
    // no-plan cites the lead time's clause and the white-list clause: two keys for one rule.
    expect(Object.keys(answer.sources).sort()).toEqual(['no-plan', 'no-plan~2']);
    answer.companies.forEach((company, i) => company.findings.forEach((f, j) => {
      expect(answer.sources[f.source_id]).toEqual(result.companies[i]!.findings[j]!.source);
      expect(f).not.toHaveProperty('source');
    }));
    // Both companies would move to the same window: one wording of 变更's reason, said once.
    expect(Object.keys(answer.reasons)).toEqual(['change']);
    answer.companies.forEach((company, i) => company.suggestions.forEach((s, j) => {
      expect(answer.reasons[s.reason_id]).toEqual(result.companies[i]!.suggestions[j]!.reason);
      expect(s).not.toHaveProperty('reason');
    }));
    // A company moved elsewhere gets the reason's second wording under a second key.
    const [first, second] = result.companies as [CompanyCheck, CompanyCheck];
    const moved = { ...second, suggestions: second.suggestions.map((s) => ({ ...s, window: { start: '2026-07-01', end: '2026-07-19' }, reason: { zh: '改到2026-07-01至2026-07-19，不触及任何规则', en: 'Move to 2026-07-01..2026-07-19' } })) };
    const two = answerOf({ ...result, companies: [first, moved] });
    expect(two.companies.map((c) => c.suggestions[0]!.reason_id)).toEqual(['change', 'change~2']);
    expect(two.reasons['change~2']!.zh).toContain('2026-07-01');
  });

  it('an off-site plan breaches none of the on-site rules', () => {
    const result = check({ ...yunhePlan, mode: 'offsite', window_start: '2026-06-16', window_end: '2026-06-30' }, '2026-06-15T09:00:00+08:00',
      visit(YUNHE, '331125', '331125-SCJG', '2026-02-10T10:00:00+08:00'));
    expect(result.companies[0]!.findings).toEqual([]);
    expect(result.verdict).toBe('ok');
  });
});
