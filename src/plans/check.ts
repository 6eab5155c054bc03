import { addDays, calendarDate } from '../calendar/index.js';
import type { CompiledRule, ResolvedRule } from '../rules/compile.js';
import type { CompanyFacts, EngineEvent } from '../rules/events.js';
import { sharedDays, standingPlans } from '../rules/kinds/overlap.js';
import type { PolicyMap } from '../rules/policy-map.js';
import { advanceNotice, annualCap, createMemo, daysOf, frequentVisits, leadTime, quietPeriod, whitelist, type CheckSubject, type Memo, type PlanRuleCheck } from './checks.js';
import {
  SUGGESTION_LABELS, levelOf, worst, type Clause, type CompanyCheck, type MergeCandidate, type PlanCheck, type PlanFinding,
  type PlanUnderCheck, type Suggestion,
} from './model.js';

/**
 * The plan check (issue 25, part 1): what a plan would breach or risk, per
 * company, under the rules in force in that company's region (the policy
 * map), before anyone enters the company. Each rule contributes the check its
 * kind allows: a yearly cap its remaining visits, a calendar rule the window's
 * quiet days, a sliding threshold on visits the frequency risk, an absence
 * rule that expects a plan its lead time and white-list review, an overlap
 * rule the merge candidates. Nothing is stored here.
 */
export interface CheckInput {
  plan: PlanUnderCheck;
  rules: readonly CompiledRule[];
  policy: PolicyMap | null;
  companies: ReadonlyMap<string, CompanyFacts>;
  /** Per company: its visits and plans around the window, in event-time order. */
  events: ReadonlyMap<string, readonly EngineEvent[]>;
  agencies: ReadonlyMap<string, { name: string; region: string }>;
  now: number;
}

/**
 * 云和 (五) 预告. Until a rule `advance-notice` is in the rule set, the figure and where it holds come from here;
 * once it is, its own placement and parameter decide.
 */
export const ADVANCE_NOTICE = {
  rule_id: 'advance-notice',
  param: 'notice_working_days',
  working_days: 5,
  prefixes: ['331125'],
  source: {
    document: 'yunhe-2025-ten-mechanisms.txt',
    clause: '各行政执法部门实施行政检查前,应将涉及的行政检查事项、检查时间、检查人员等内容向企业进行“预告”,预告期限一般不少于5个工作日',
  },
} as const;

const WHITELIST_CLAUSE: Clause = {
  document: 'yantai-joint-inspection-platform.txt',
  clause: '对确需检查的事项,各行政执法单位将检查计划报同级司法局进行审核,审核通过后纳入平台再进行检查',
};

/** How far 变更 looks for a window that breaches nothing, each way. */
const CHANGE_SEARCH_DAYS = 90;

export function checkPlan(input: CheckInput): PlanCheck {
  const { plan } = input;
  const memo = createMemo();
  const companies = [...new Set(plan.enterprise_ids)].map((id) => checkCompany(input, id, memo));
  return {
    plan_id: plan.plan_id,
    agency_id: plan.agency_id,
    agency_name: input.agencies.get(plan.agency_id)?.name ?? plan.agency_id,
    agency_level: levelOf(input.agencies.get(plan.agency_id)?.region),
    matters: plan.matters,
    mode: plan.mode,
    window_start: plan.window_start,
    window_end: plan.window_end,
    checked_at: new Date(input.now).toISOString(),
    verdict: worst(companies.map((c) => c.verdict)),
    companies,
  };
}

function checkCompany(input: CheckInput, enterpriseId: string, memo: Memo): CompanyCheck {
  const { plan } = input;
  const events = input.events.get(enterpriseId) ?? [];
  const company = input.companies.get(enterpriseId) ?? {
    enterprise_id: enterpriseId, name: enterpriseId, region: plan.region, credit_grade: null, whitelisted: false, quiet_days: null, deregistered_on: null,
  };
  const agencyName = (id: string) => input.agencies.get(id)?.name ?? id;
  const subject: CheckSubject = { memo, plan, company, events, agencyName, now: input.now };
  const checks: Array<{ rule_id: string; source: Clause; check: PlanRuleCheck }> = [];
  const policy = memo(`region:${company.region}`, () => regionChecks(input, company.region));
  for (const { rule, source, build } of policy.rules) {
    for (const { check, cited } of build(subject)) checks.push({ rule_id: rule.spec.id, source: cited ?? source, check });
  }
  const overlapRule = policy.overlap;
  const candidates = overlapRule ? mergeCandidates(overlapRule.rule, input, events) : [];
  const notice = policy.notice;
  const noticeCheck = notice && advanceNotice(notice.working_days, subject);
  if (notice && noticeCheck) checks.push({ rule_id: ADVANCE_NOTICE.rule_id, source: notice.source, check: noticeCheck });

  const findings: PlanFinding[] = checks.flatMap(({ rule_id, source, check }) => {
    const judged = check.at(plan.window_start, plan.window_end);
    return judged ? [{ check: check.check, rule_id, source, ...judged }] : [];
  });
  if (notice?.figure_from_definition) {
    const f = findings.find((x) => x.check === 'advance_notice');
    if (f) f.figures.figure_from = 'plan-check definition (no advance-notice rule in the rule set)';
  }
  if (overlapRule && candidates.length > 0) {
    findings.push({
      check: 'merge', rule_id: overlapRule.rule.spec.id, source: overlapRule.source, level: 'advise',
      message: {
        zh: `同一企业同期另有${candidates.length}项现场检查计划，可合并：${candidates.map((c) => `${c.plan_id}（${c.agency_name}）`).join('、')}`,
        en: `Other on-site plans for this company in the same days can be merged (${candidates.length}): ${candidates.map((c) => c.plan_id).join(', ')}`,
      },
      figures: { candidates: candidates.length },
    });
  }
  const verdict = worst(findings.map((f) => f.level));
  return {
    enterprise_id: enterpriseId,
    name: company.name,
    region: company.region,
    verdict,
    findings,
    merge_candidates: candidates,
    suggestions: verdict === 'ok' ? [] : suggest(plan, findings, candidates, checks.map((c) => c.check), input.now, memo),
  };
}

interface RegionChecks {
  /** Each rule in force in the region that a plan can breach, with what it checks for one company. */
  rules: Array<{ rule: ResolvedRule; source: Clause; build: (s: CheckSubject) => Array<{ check: PlanRuleCheck; cited?: Clause }> }>;
  overlap: { rule: ResolvedRule; source: Clause } | null;
  notice: ReturnType<typeof noticeRule>;
}

/** What the rules in force in a region check, decided once per region and check (companies of a plan share it). */
function regionChecks(input: CheckInput, region: string): RegionChecks {
  const out: RegionChecks = { rules: [], overlap: null, notice: noticeRule(input, region) };
  const one = (check: PlanRuleCheck | null, cited?: Clause) => (check ? [{ check, cited }] : []);
  for (const compiled of input.rules) {
    const rule = compiled.forRegion(region);
    if (!rule) continue;
    const source = clauseOf(rule, input.policy, region);
    const add = (build: RegionChecks['rules'][number]['build']) => out.rules.push({ rule, source, build });
    switch (rule.spec.kind) {
      case 'cap':
        if (rule.spec.detect.period === 'year' && visitsOnSite(rule, rule.spec.detect.match)) add((s) => one(annualCap(rule, s)));
        break;
      case 'calendar':
        if (visitsOnSite(rule, rule.spec.detect.match)) add((s) => one(quietPeriod(rule, s)));
        break;
      case 'threshold':
        if (visitsOnSite(rule, rule.spec.detect.match)) add((s) => one(frequentVisits(rule, s)));
        break;
      case 'absence':
        if (rule.types(rule.spec.detect.expect)?.includes('plan') && visitsOnSite(rule, rule.spec.detect.trigger)) {
          add((s) => [...one(leadTime(rule, s)), ...one(whitelist(rule, s, planEvent(s.plan, s.company.enterprise_id)), WHITELIST_CLAUSE)]);
        }
        break;
      case 'overlap':
        out.overlap = { rule, source };
        break;
    }
  }
  return out;
}

/** The rule judges on-site visits (check-ins or inspection records): a plan for visits can breach it. */
const visitsOnSite = (rule: ResolvedRule, condition: Parameters<ResolvedRule['types']>[0]) => {
  const types = rule.types(condition);
  return types === null || types.includes('checkin') || types.includes('inspection');
};

/** The clause that puts a rule in force in a region: the longest governing entry naming it, else the entry's, else the rule's. */
export function clauseOf(rule: ResolvedRule, policy: PolicyMap | null, region: string): Clause {
  if (!policy) return rule.spec.source;
  const naming = policy.forRegion(region).entries.filter((e) => e.rules[rule.spec.id]).at(-1);
  return naming?.rules[rule.spec.id]?.source ?? naming?.source ?? rule.spec.source;
}

function noticeRule(input: CheckInput, region: string): { working_days: number; source: Clause; figure_from_definition: boolean } | null {
  const shipped = input.rules.find((r) => r.spec.id === ADVANCE_NOTICE.rule_id);
  if (shipped) {
    const rule = shipped.forRegion(region);
    if (!rule) return null;
    const figure = rule.params[ADVANCE_NOTICE.param];
    return { working_days: typeof figure === 'number' ? figure : ADVANCE_NOTICE.working_days, source: clauseOf(rule, input.policy, region), figure_from_definition: typeof figure !== 'number' };
  }
  if (!ADVANCE_NOTICE.prefixes.some((p) => region.startsWith(p))) return null;
  return { working_days: ADVANCE_NOTICE.working_days, source: ADVANCE_NOTICE.source, figure_from_definition: true };
}

function mergeCandidates(rule: ResolvedRule, input: CheckInput, events: readonly EngineEvent[]): MergeCandidate[] {
  const { plan } = input;
  if (plan.mode !== 'onsite' || rule.spec.kind !== 'overlap') return [];
  const counts = rule.when(rule.spec.detect.match);
  const own = [plan.agency_id, ...plan.joint_agency_ids];
  const window = { window_start: plan.window_start, window_end: plan.window_end } as EngineEvent;
  return standingPlans(events, input.now)
    .filter((p) => p.plan_id !== plan.plan_id && !plan.replaces.includes(p.plan_id) && counts(p.version))
    .flatMap((p) => {
      const shared = sharedDays(window, p.version);
      if (!shared) return [];
      const v = p.version;
      return [{
        plan_id: p.plan_id,
        agency_id: v.agency_id,
        agency_name: input.agencies.get(v.agency_id)?.name ?? v.agency_id,
        level: levelOf(input.agencies.get(v.agency_id)?.region),
        joint_agency_ids: [...v.joint_agency_ids],
        same_agency: [v.agency_id, ...v.joint_agency_ids].some((a) => own.includes(a)),
        // Filled in by the caller, who reads them only for the plans named here.
        matters: [],
        event_id: v.id,
        window_start: v.window_start!,
        window_end: v.window_end!,
        overlap_days: shared.days,
        status: v.status,
      }];
    });
}

/** 莆田's 调度建议: 合并检查 (naming the plans), 线上检查, 变更检查 (the nearest window that breaches nothing), 取消检查. */
function suggest(plan: PlanUnderCheck, findings: PlanFinding[], candidates: MergeCandidate[], checks: PlanRuleCheck[], now: number, memo: Memo): Suggestion[] {
  const out: Suggestion[] = [];
  const failing = (name: PlanFinding['check']) => findings.some((f) => f.check === name && f.level !== 'ok');
  if (candidates.length > 0) {
    out.push({
      action: 'merge', label: SUGGESTION_LABELS.merge, plan_ids: candidates.map((c) => c.plan_id),
      reason: { zh: '与同期计划合并为一次联合检查', en: 'Merge with the plans in the same days into one joint inspection' },
    });
  }
  if (plan.mode === 'onsite' && (failing('annual_cap') || failing('frequent_visits') || failing('quiet_period'))) {
    out.push({
      action: 'online', label: SUGGESTION_LABELS.online,
      reason: { zh: '非现场检查能达到检查目的的，改为线上（不到场）检查，不计入现场检查次数', en: 'Where an off-site check suffices, check off-site: it is no on-site visit' },
    });
  }
  const dated = checks.filter((c) => c.dated);
  if (findings.some((f) => f.level !== 'ok' && dated.some((c) => c.check === f.check))) {
    // Companies whose dated checks all judge alike (same rules, grade, quiet days) share one search.
    const shared = dated.every((c) => c.sameFor !== null) ? dated.map((c) => c.sameFor).join('|') : null;
    const search = () => nearestClearWindow(plan, dated, now);
    const window = shared === null ? search() : memo(`window:${shared}:${plan.window_start}:${plan.window_end}`, search);
    if (window) {
      out.push({
        action: 'change', label: SUGGESTION_LABELS.change, window,
        reason: { zh: `改到${window.start}至${window.end}，不触及任何规则`, en: `Move to ${window.start}..${window.end}, which breaches nothing` },
      });
    }
  }
  if (failing('annual_cap')) {
    out.push({
      action: 'cancel', label: SUGGESTION_LABELS.cancel,
      reason: { zh: '本年度现场检查次数已达上限，无法定理由的取消检查', en: 'The yearly cap is reached: cancel unless the law requires the visit' },
    });
  }
  return out;
}

/** The window of the same length, nearest to the planned one (later first on a tie), from today on, that every dated check passes. */
function nearestClearWindow(plan: PlanUnderCheck, dated: PlanRuleCheck[], now: number): { start: string; end: string } | null {
  const length = daysOf(plan.window_start, plan.window_end).length;
  const today = calendarDate(now);
  const clear = (start: string) => {
    const end = addDays(start, length - 1);
    return start >= today && dated.every((c) => (c.at(start, end)?.level ?? 'ok') === 'ok') ? { start, end } : null;
  };
  for (let shift = 1; shift <= CHANGE_SEARCH_DAYS; shift++) {
    const found = clear(addDays(plan.window_start, shift)) ?? clear(addDays(plan.window_start, -shift));
    if (found) return found;
  }
  return null;
}

/** The plan as the engine would store it for one company, to test conditions (e.g. reviewed by the justice bureau). */
function planEvent(plan: PlanUnderCheck, enterpriseId: string): EngineEvent {
  return {
    id: plan.plan_id ?? 'draft', type: 'plan', enterprise_id: enterpriseId, occurred_at: plan.filed_at, region: plan.region, source: '',
    agency_id: plan.agency_id, officer_ids: [], action: '', method: '', onsite: plan.mode === 'onsite', purpose: '',
    plan_id: plan.plan_id ?? 'draft', urgent_reason: '', national_basis: '', started_at: null, ended_at: null, outcome: '', matters: plan.matters,
    remedies: '', credit_repair: '', score: null, window_start: plan.window_start,
    window_end: plan.window_end, mode: plan.mode, status: plan.status, joint_agency_ids: plan.joint_agency_ids, replaces: plan.replaces,
    reviewed_by: plan.reviewed_by, category: '', channel: '', filing_kind: '', filed_with: '', approved_by: '',
  };
}
