import { DAY, addDays, addWorkingDays, calendarDate, midnight } from '../calendar/index.js';
import type { ResolvedRule } from '../rules/compile.js';
import type { CompanyFacts, EngineEvent } from '../rules/events.js';
import { inPeriod, periodDays } from '../rules/kinds/calendar.js';
import { countUnits } from '../rules/kinds/counting.js';
import { lookup } from '../rules/kinds/lookup.js';
import { timeOf } from '../rules/kinds/visits.js';
import { boundAt, num } from '../rules/offsets.js';
import type { Offset } from '../rules/schema.js';
import type { CheckName, Localized, PlanUnderCheck, Verdict } from './model.js';

/**
 * One check of a plan for one company under one rule in force there. `at(start, end)` judges the plan with
 * another window, so that 变更 can look for the nearest window that breaches nothing; checks that do not depend
 * on the window (whitelist) answer the same for every window.
 */
export interface Judged {
  level: Verdict;
  message: Localized;
  figures: Record<string, string | number | boolean | null>;
}

/** Remembers what one check of a plan computed, across its companies: most figures depend on a few facts only. */
export type Memo = <T>(key: string, compute: () => T) => T;

export function createMemo(): Memo {
  const seen = new Map<string, unknown>();
  return <T>(key: string, compute: () => T): T => {
    if (seen.has(key)) return seen.get(key) as T;
    const value = compute();
    seen.set(key, value);
    return value;
  };
}

const ruleKeys = new WeakMap<ResolvedRule, number>();
let rulesSeen = 0;
/** One number per rule as resolved for a region (its parameters there). */
const ruleKey = (rule: ResolvedRule) => {
  if (!ruleKeys.has(rule)) ruleKeys.set(rule, ++rulesSeen);
  return ruleKeys.get(rule)!;
};

export interface CheckSubject {
  memo: Memo;
  plan: PlanUnderCheck;
  company: CompanyFacts;
  /** The company's events (visits of the year around the window, and plans), in event-time order. */
  events: readonly EngineEvent[];
  agencyName(id: string): string;
  now: number;
}

export interface PlanRuleCheck {
  check: CheckName;
  /** Whether the verdict depends on the plan's dates (变更 can help). */
  dated: boolean;
  /** Checks with the same key judge every window alike (null: this company's own events decide). */
  sameFor: string | null;
  at(start: string, end: string): Judged | null;
}

type Spec<K extends string> = Extract<ResolvedRule['spec'], { kind: K }>;

export const daysOf = (start: string, end: string): string[] => {
  const days: string[] = [];
  for (let d = start; d <= end; d = addDays(d, 1)) days.push(d);
  return days;
};

const plansOf = (events: readonly EngineEvent[]) => events.filter((e) => e.type === 'plan');

/** 云和 (二) 四 / (六): on-site visits so far this year by the plan's agencies, against the company's grade's cap. */
export function annualCap(rule: ResolvedRule, s: CheckSubject): PlanRuleCheck | null {
  const { detect } = rule.spec as Spec<'cap'>;
  const limit = lookup(detect.limit, s.company);
  if (limit === undefined || limit === null || s.plan.mode !== 'onsite') return null;
  const cap = num(limit);
  const matches = rule.when(detect.match);
  const excluded = detect.not_counted ? rule.when(detect.not_counted) : () => false;
  const grade = s.company.credit_grade ?? '—';
  return {
    check: 'annual_cap',
    dated: false,
    sameFor: null,
    at(start) {
      const year = start.slice(0, 4);
      const counts = [s.plan.agency_id, ...s.plan.joint_agency_ids].map((agency) => {
        const visits = s.events.filter((e) => e.agency_id === agency && matches(e) && calendarDate(timeOf(e)).startsWith(year));
        const counted = countUnits(visits, detect.count, plansOf(s.events)).filter((u) => !u.events.some(excluded));
        return { agency, so_far: counted.length, remaining: cap - counted.length };
      });
      const tightest = counts.reduce((a, b) => (b.remaining < a.remaining ? b : a));
      const over = tightest.remaining <= 0;
      const name = s.agencyName(tightest.agency);
      return {
        level: over ? 'breach' : 'ok',
        message: {
          zh: `${name}${year}年已对该企业现场检查${tightest.so_far}次，信用等级${grade}年度上限${cap}次，剩余${Math.max(0, tightest.remaining)}次${over ? '：本次现场检查将超过上限' : ''}`,
          en: `${name} has inspected this company on site ${tightest.so_far} times in ${year}; the cap for grade ${grade} is ${cap}, ${Math.max(0, tightest.remaining)} left${over ? ': this visit would exceed it' : ''}`,
        },
        figures: { grade, limit: cap, agency_id: tightest.agency, visits_so_far: tightest.so_far, remaining: Math.max(0, tightest.remaining), year: Number(year) },
      };
    },
  };
}

/** 丽水/云和 企业安静期: the days of the window inside the company's quiet period. */
export function quietPeriod(rule: ResolvedRule, s: CheckSubject): PlanRuleCheck | null {
  const days = periodDays(rule, s.company);
  if (!days || s.plan.mode !== 'onsite') return null;
  const key = `quiet:${ruleKey(rule)}:${days.join(',')}`;
  return {
    check: 'quiet_period',
    dated: true,
    sameFor: key,
    at(start, end) {
      const all = s.memo(`days:${start}:${end}`, () => daysOf(start, end));
      const quiet = all.filter((d) => s.memo(`${key}:${d}`, () => inPeriod(rule, days, midnight(d) + 12 * 3_600_000)));
      const level: Verdict = quiet.length === 0 ? 'ok' : quiet.length === all.length ? 'breach' : 'advise';
      const list = quiet.length > 0 ? `${quiet[0]}${quiet.length > 1 ? `至${quiet.at(-1)}` : ''}` : '';
      return {
        level,
        message: quiet.length === 0
          ? { zh: '检查时段不在企业安静期内', en: 'No day of the window is in the quiet period' }
          : {
            zh: `检查时段中有${quiet.length}天在企业安静期内（${list}）${level === 'breach' ? '，全部时段均在安静期' : '，可改在其他日期'}；确需检查的须报本单位主要负责人批准并于3个工作日内备案`,
            en: `${quiet.length} of ${all.length} days of the window are in the quiet period (${quiet.join(', ')})`,
          },
        figures: { quiet_days: quiet.length, window_days: all.length, first_quiet_day: quiet[0] ?? null, last_quiet_day: quiet.at(-1) ?? null },
      };
    },
  };
}

/**
 * 德州 15天4次 (and its same-agency reading): the visits already in the window's days and the days around them
 * that one sliding window can hold together with the planned visit.
 */
export function frequentVisits(rule: ResolvedRule, s: CheckSubject): PlanRuleCheck | null {
  const { detect } = rule.spec as Spec<'threshold'>;
  if (!('sliding_days' in detect.window) || s.plan.mode !== 'onsite') return null;
  const span = num(detect.window.sliding_days);
  const matches = rule.when(detect.match);
  const units = countUnits(s.events.filter(matches), detect.count, plansOf(s.events));
  const dayOf = units.map((u) => midnight(calendarDate(u.at)));
  const readings = [
    { who: null as string | null, at_least: num(detect.at_least) },
    ...detect.also.filter((a) => a.group_by.includes('agency_id')).map((a) => ({ who: s.plan.agency_id, at_least: num(a.at_least) })),
  ];
  // The most visits one window of `span` days around `day` holds, the planned one included.
  const busiest = (day: string, who: string | null) => {
    const t = midnight(day);
    let most = 0;
    for (let first = t - (span - 1) * DAY; first <= t; first += DAY) {
      const last = first + (span - 1) * DAY;
      const n = units.filter((u, i) => dayOf[i]! >= first && dayOf[i]! <= last && (who === null || u.events.some((e) => e.agency_id === who))).length;
      most = Math.max(most, n);
    }
    return most + 1;
  };
  return {
    check: 'frequent_visits',
    dated: true,
    sameFor: null,
    at(start, end) {
      const all = s.memo(`days:${start}:${end}`, () => daysOf(start, end));
      const around = units.filter((_, i) => dayOf[i]! >= midnight(start) - (span - 1) * DAY && dayOf[i]! <= midnight(end) + (span - 1) * DAY).length;
      let worstReading: { at_least: number; most: number; who: string | null; risky: number } | null = null;
      for (const reading of readings) {
        const peaks = all.map((d) => busiest(d, reading.who));
        const risky = peaks.filter((p) => p >= reading.at_least).length;
        const most = Math.max(...peaks);
        if (!worstReading || risky > worstReading.risky || (risky === worstReading.risky && most - reading.at_least > worstReading.most - worstReading.at_least)) {
          worstReading = { at_least: reading.at_least, most, who: reading.who, risky };
        }
      }
      const w = worstReading!;
      const level: Verdict = w.risky === 0 ? 'ok' : w.risky === all.length ? 'breach' : 'advise';
      const who = w.who ? `${s.agencyName(w.who)}` : '各部门';
      return {
        level,
        message: {
          zh: `检查时段前后${span}天内已有${around}次入企检查；${who}在任一${span}天内最多将达${w.most}次（${w.at_least}次即预警）${w.risky > 0 ? `，${w.risky}天会触发频繁检查预警` : ''}`,
          en: `${around} visits already within ${span} days of the window; with this one, ${w.most} in one ${span}-day window (the line is ${w.at_least})${w.risky > 0 ? `; ${w.risky} days of the window would raise the alert` : ''}`,
        },
        figures: { visits_around: around, window_days: span, at_least: w.at_least, most_with_this: w.most, risky_days: w.risky, agency_id: w.who },
      };
    },
  };
}

/** The lead time a plan needs, as the region's no-plan rule counts it: the days or working days of its `to` bound. */
export function leadTime(rule: ResolvedRule, s: CheckSubject): PlanRuleCheck | null {
  const { detect } = rule.spec as Spec<'absence'>;
  if (s.plan.mode !== 'onsite') return null;
  const to = detect.within.to;
  const offsets = (to === 'unbounded' ? [] : Array.isArray(to) ? to : [to]) as Offset[];
  const dated = offsets.find((o) => o.days !== undefined || o.working_days !== undefined);
  const lead = dated ? -num(dated.days ?? dated.working_days) : 0;
  const unit = dated?.working_days !== undefined ? 'working_days' : 'days';
  const unitZh = unit === 'working_days' ? '个工作日' : '天';
  // A visit on a day is covered when the plan was filed by the rule's bound for a visit at that day's end.
  const key = `lead:${ruleKey(rule)}:${s.plan.filed_at}`;
  const inTime = (day: string) => s.memo(`${key}:${day}`, () => to === 'unbounded' || s.plan.filed_at <= boundAt(midnight(addDays(day, 1)) - 1, to, 'to'));
  const filed = calendarDate(s.plan.filed_at);
  return {
    check: 'lead_time',
    dated: true,
    sameFor: key,
    at(start, end) {
      const all = s.memo(`days:${start}:${end}`, () => daysOf(start, end));
      const late = all.filter((d) => !inTime(d));
      const firstInTime = all.find(inTime) ?? null;
      const level: Verdict = late.length === 0 ? 'ok' : late.length === all.length ? 'breach' : 'advise';
      const need = lead > 0 ? `须提前${lead}${unitZh}报备` : '须在检查前报备';
      return {
        level,
        message: late.length === 0
          ? { zh: `${filed}报备，${need}：满足`, en: `Filed ${filed}; the lead time (${lead} ${unit}) is met` }
          : {
            zh: `${filed}报备，${need}：${level === 'breach' ? '整个检查时段都来不及' : `${late[0]}至${late.at(-1)}来不及，${firstInTime}起可以`}`,
            en: `Filed ${filed}; ${lead} ${unit} ahead are needed: ${late.length} of ${all.length} days are too soon`,
          },
        figures: { lead, unit, filed, late_days: late.length, first_day_in_time: firstInTime },
      };
    },
  };
}

/** 烟台 白名单: a white-list company's plan counts only when the justice bureau reviewed it. */
export function whitelist(rule: ResolvedRule, s: CheckSubject, planEvent: EngineEvent): PlanRuleCheck | null {
  const { detect } = rule.spec as Spec<'absence'>;
  if (!s.company.whitelisted || !detect.whitelisted_expect || s.plan.mode !== 'onsite') return null;
  const approved = rule.when(detect.whitelisted_expect)(planEvent);
  return {
    check: 'whitelist',
    dated: false,
    sameFor: null,
    at: () => ({
      level: approved ? 'ok' : 'breach',
      message: approved
        ? { zh: '白名单企业：检查计划已经司法局审核', en: 'White-list company: the plan was reviewed by the justice bureau' }
        : { zh: '白名单企业：检查计划须报同级司法局审核通过后才能检查', en: 'White-list company: the plan needs the justice bureau\'s review before the check' },
      figures: { whitelisted: true, reviewed: approved },
    }),
  };
}

/**
 * 云和 预告: the company must be told at least `workingDays` working days before the visit. From today, the
 * first day of the window for which that is still possible.
 */
export function advanceNotice(workingDays: number, s: CheckSubject): PlanRuleCheck | null {
  if (s.plan.mode !== 'onsite') return null;
  const today = calendarDate(s.now);
  // The last day to tell the company of a visit on `day`: `workingDays` working days before it.
  const noticeBy = (day: string) => s.memo(`notice:${workingDays}:${day}`, () => addWorkingDays(day, -workingDays));
  return {
    check: 'advance_notice',
    dated: true,
    sameFor: `notice:${workingDays}:${today}`,
    at(start, end) {
      const all = s.memo(`days:${start}:${end}`, () => daysOf(start, end));
      const possible = all.filter((d) => noticeBy(d) >= today);
      const level: Verdict = possible.length === all.length ? 'ok' : 'advise';
      const latest = noticeBy(start);
      return {
        level,
        message: possible.length === all.length
          ? { zh: `须在${latest}前向企业预告（不少于${workingDays}个工作日）：来得及`, en: `Notice to the company by ${latest} (${workingDays} working days): still possible` }
          : {
            zh: `预告不少于${workingDays}个工作日：${possible.length === 0 ? '整个检查时段都已来不及预告' : `${possible[0]}起的检查才来得及预告`}`,
            en: `${workingDays} working days' notice: ${possible.length === 0 ? 'too late for every day of the window' : `possible for visits from ${possible[0]}`}`,
          },
        figures: { working_days: workingDays, notice_by: latest, today, first_day_noticeable: possible[0] ?? null },
      };
    },
  };
}
