/**
 * Situations routine traffic does not produce, each in the regions whose
 * policy names it (rules/regions.yaml): the breaches the documents describe
 * (violations, injected at `violationRate`) and the lawful special cases
 * their mechanisms exist for (special cases, at a fixed small share), so every
 * rule and exception has something to act on where it holds.
 */
import type { Enterprise } from '../ingest/schema.js';
import { DAY, addWorkingDays, calendarDate, dayOfMonth, midnight } from '../calendar/index.js';
import type { DemoRegion } from './catalogue.js';
import type { Ledger } from './ledger.js';
import type { Random } from './random.js';
import type { Office, Records, TimedEvent, Visit, VisitRecord } from './records.js';

export interface ScenarioContext {
  random: Random;
  records: Records;
  ledger: Ledger;
  /** Books a visit for its day; the ledger remembers it. */
  book(visit: Visit): void;
  /** Simulates an on-site visit today at once; the ledger remembers it. */
  visitNow(visit: Visit, today: ScenarioDay): VisitRecord;
  /** A company and day for an on-site visit by `office` that keeps the clean limits while they can be kept. */
  pickVisit(office: Office, dayFor: (c: Enterprise) => number | undefined): { company: Enterprise; day: number } | undefined;
  companiesIn(region: DemoRegion): readonly Enterprise[];
  /** The region's deregistered companies, which routine traffic leaves alone. */
  deregisteredIn(region: DemoRegion): readonly Enterprise[];
  isWorkingDay(day: number): boolean;
  isQuiet(company: Enterprise, day: number): boolean;
  /** The first day from `start` on that passes `ok`, no further ahead than the warm-up covers. */
  firstDayFrom(start: number, ok: (day: number) => boolean): number | undefined;
}

/** One simulated day as a scenario sees it. */
export interface ScenarioDay {
  day: number;
  out: TimedEvent[];
  /** On-site visits made today, which complaints may be about. */
  visits: VisitRecord[];
}

export interface Scenario {
  id: string;
  /** Demo region codes where the situation arises. */
  regions: readonly string[];
  /** Files today for a visit a week or more ahead, so it runs during the warm-up too. */
  bookedAhead: boolean;
  run(ctx: ScenarioContext, office: Office, today: ScenarioDay): void;
}

const DEZHOU = '371400';
const YANTAI = '370600';
const PUTIAN = '350300';
const HAISHU = '330203';
const YUNHE = '331125';

/** Where a check needs a plan (no-plan holds), and where every officer must scan in (entry-without-scan holds). */
const PLAN_REGIONS = [YANTAI, PUTIAN, HAISHU, YUNHE];
const SCAN_REGIONS = [DEZHOU, YANTAI, YUNHE];

// 烟台's green channel: "即时录入" within a tolerance of 30 minutes (rules/no-plan.yaml); a late entry is made hours later.
const GREEN_CHANNEL_IN_TIME = [3, 25] as const;
const GREEN_CHANNEL_LATE = [2 * 60, 26 * 60] as const;
// 云和's caps by credit grade per agency and year ("A类…免检", "B类…不得高于1次", "C类…不得高于2次").
const GRADE_CAP = { A: 0, B: 1, C: 2 } as const;

export const VIOLATIONS: readonly Scenario[] = [
  {
    // 烟台 "至少提前7天", 莆田 "一周前发布", 海曙 "無計劃不檢查", 云和 "查前备案": a check with no plan at all.
    id: 'no_plan', regions: PLAN_REGIONS, bookedAhead: false,
    run(ctx, office, today) {
      const company = ctx.pickVisit(office, (c) => (ctx.isQuiet(c, today.day) ? undefined : today.day))?.company;
      if (company) today.visits.push(ctx.visitNow({ day: today.day, office, company, onsite: true, joint: [], scanned: true }, today));
    },
  },
  {
    // A record of an on-site check nobody scanned for ("严禁开展“无码入企”").
    id: 'no_checkin', regions: SCAN_REGIONS, bookedAhead: true,
    run: (ctx, office, today) => planAndBook(ctx, office, today, { scanned: false }),
  },
  {
    // A record naming an officer who never scanned in: every officer shows his own code (查时亮码).
    id: 'officer_unscanned', regions: SCAN_REGIONS, bookedAhead: true,
    run: (ctx, office, today) => planAndBook(ctx, office, today, { teamSize: ctx.random.int(2, 3), unscannedOfficers: 1 }),
  },
  {
    // 德州 "进出企业请扫码": officers scanned in and left without scanning out.
    id: 'no_exit_scan', regions: [DEZHOU], bookedAhead: true,
    run: (ctx, office, today) => planAndBook(ctx, office, today, { noExitScan: true }),
  },
  {
    // 禹城's example: "11月23日至12月4日间,禹城市生态环境局检查禹城坤达木业有限公司共计3次": one agency, 3 visits in 12 days.
    id: 'one_agency_three_times', regions: [DEZHOU], bookedAhead: true,
    run: (ctx, office, today) => repeatedVisits(ctx, office, today, 3, 12),
  },
  {
    // "各部门轮番前来": four agencies in turn, each on its own plan, within 15 days.
    id: 'agencies_in_turn', regions: [DEZHOU], bookedAhead: true,
    run(ctx, office, today) {
      const agencies = [office, ...ctx.random.sample(office.partners, 3)];
      const start = ctx.firstDayFrom(today.day + 7 * DAY, (d) => workingDays(ctx, d, 14).length >= 4);
      const company = start === undefined ? undefined : ctx.pickVisit(office, () => start)?.company;
      if (start === undefined || !company || agencies.length < 4) return;
      const days = ctx.random.sample(workingDays(ctx, start, 14), 4).sort((a, b) => a - b);
      agencies.forEach((agency, i) => {
        const planId = fileAhead(ctx, agency, today, [company], days[i]!, 1);
        ctx.book({ day: days[i]!, office: agency, company, onsite: true, planId, joint: [], scanned: true });
      });
    },
  },
  {
    // 烟台's green channel used late or not at all: an urgent check entered hours afterwards, or never.
    id: 'green_channel_late', regions: [YANTAI], bookedAhead: false,
    run(ctx, office, today) {
      const company = ctx.pickVisit(office, () => today.day)?.company;
      if (!company) return;
      const minutes = ctx.random.chance(0.5) ? ctx.random.int(...GREEN_CHANNEL_LATE) : null;
      today.visits.push(ctx.visitNow({
        day: today.day, office, company, onsite: true, joint: [], scanned: true, urgentReason: ctx.records.urgentReason(), onTheSpotPlan: { minutes },
      }, today));
    },
  },
  {
    // 莱州's white list: "将检查计划报同级司法局进行审核,审核通过后纳入平台再进行检查"; this plan skipped the review.
    id: 'white_list_unreviewed', regions: [YANTAI], bookedAhead: true,
    run(ctx, office, today) {
      const listed = ctx.companiesIn(office.region).filter((c) => c.whitelisted && !ctx.ledger.visitedBy(c, office, today.day));
      if (listed.length === 0) return;
      const company = ctx.random.pick(listed);
      const day = ctx.firstDayFrom(today.day + ctx.random.int(7, 14) * DAY, ctx.isWorkingDay)!;
      const planId = fileAhead(ctx, office, today, [company], day, 1, { reviewed: false });
      ctx.book({ day, office, company, onsite: true, planId, joint: [], scanned: true });
    },
  },
  {
    // 云和's quiet period: an ordinary check without the head's approval filed within 3 working days (none, or too late).
    id: 'quiet_period_unfiled', regions: [YUNHE], bookedAhead: true,
    run(ctx, office, today) {
      const late = ctx.random.chance(0.5);
      quietCheck(ctx, office, today, late ? { filingAfter: { workingDaysAfter: ctx.random.int(4, 6) } } : {});
    },
  },
  {
    // 调研 in the quiet period without the filing "提前三个工作日": none, or only the day before.
    id: 'research_unfiled', regions: [YUNHE], bookedAhead: true,
    run: (ctx, office, today) => researchVisit(ctx, office, today, ctx.random.chance(0.5) ? null : 1),
  },
  {
    // 云和's caps per agency and year by credit grade; sometimes with a visit under national rules the cap leaves out.
    id: 'over_grade_cap', regions: [YUNHE], bookedAhead: true,
    run(ctx, office, today) {
      const grade = ctx.random.weighted([['A', 2], ['B', 2], ['C', 1]] as const);
      const visits = GRADE_CAP[grade] + 1;
      const withNationalBasis = ctx.random.chance(0.4);
      repeatedVisits(ctx, office, today, visits + Number(withNationalBasis), 10, (c) => c.credit_grade === grade,
        (i) => (withNationalBasis && i === 0 ? { nationalBasis: office.kind.nationalBasis } : {}));
    },
  },
  {
    // 莆田 "入企检查后5个工作日内,在平台反馈……涉及行政处罚的,还应上传救济途径、信用修复流程": a result filed 6 to 9
    // working days later, or a penalty fed back without the remedies and the credit repair.
    id: 'result_overdue', regions: [PUTIAN], bookedAhead: true,
    run: (ctx, office, today) => planAndBook(ctx, office, today, ctx.random.chance(0.5)
      ? { recordAfterWorkingDays: ctx.random.int(6, 9) }
      : { outcome: 'penalty', penaltyWithoutRemedies: true }),
  },
  {
    // 云和 "预告期限一般不少于5个工作日": no notice to the company, or one given only 1 to 4 working days ahead.
    id: 'no_notice', regions: [YUNHE], bookedAhead: true,
    run: (ctx, office, today) => planAndBook(ctx, office, today, { notice: { workingDaysAhead: ctx.random.chance(0.5) ? null : ctx.random.int(1, 4) } }),
  },
  {
    // 云和 "领导干部入企开展公务活动的,需提前三个工作日……报备": no filing, or one only 1 or 2 working days ahead.
    id: 'leader_visit_unfiled', regions: [YUNHE], bookedAhead: true,
    run(ctx, office, today) {
      const ahead = ctx.random.chance(0.5) ? null : ctx.random.int(1, 2);
      const day = ctx.firstDayFrom(midnight(addWorkingDays(calendarDate(today.day), 4)), ctx.isWorkingDay)!;
      const company = ctx.random.pick(ctx.companiesIn(office.region));
      if (ahead !== null) {
        const filedOn = midnight(addWorkingDays(calendarDate(day), -ahead));
        ctx.records.filing({ office, company, kind: 'leader_visit', visitDay: day, filedAt: ctx.records.workingMoment(filedOn), origin: day }, today.out);
      }
      ctx.book({ day, office, company, onsite: true, joint: [], scanned: true, purpose: 'leader_visit', teamSize: ctx.random.int(2, 3) });
    },
  },
  {
    // 德州's SMS rating ("他打了95分,属“十分满意”") and 烟台's "执法不满意": a visit the company rates 59 or less.
    id: 'dissatisfied', regions: [DEZHOU, YANTAI], bookedAhead: true,
    run: (ctx, office, today) => planAndBook(ctx, office, today, { score: ctx.random.int(10, 59) }),
  },
  {
    // 德州 "执法时长47分钟……次数和时长都合理": a visit of a few minutes (a scan for show) or of most of a day.
    id: 'abnormal_duration', regions: [DEZHOU], bookedAhead: true,
    run: (ctx, office, today) => planAndBook(ctx, office, today, { stayMinutes: ctx.random.chance(0.5) ? ctx.random.int(3, 12) : ctx.random.int(250, 400) }),
  },
  {
    // 云和 "非现场检查能达到检查目的,且未发现有违法行为的,原则上不再进行现场检查": an off-site check today finds
    // nothing, and the same agency still inspects the same matter on site days later. A week to choose the day
    // from: a single day fell in 下旬, where every company of 云和 is quiet, as often as not.
    id: 'onsite_after_clean_offsite', regions: [YUNHE], bookedAhead: false,
    run(ctx, office, today) {
      const start = ctx.firstDayFrom(today.day + ctx.random.int(1, 4) * DAY, ctx.isWorkingDay)!;
      const pick = ctx.pickVisit(office, (c) => openDay(ctx, c, start, 7));
      if (!pick) return;
      const matters = ctx.random.sample(office.kind.matters, ctx.random.int(1, 2));
      ctx.visitNow({ day: today.day, office, company: pick.company, onsite: false, joint: [], scanned: false, outcome: 'no_issue', matters }, today);
      const planId = fileAhead(ctx, office, today, [pick.company], start, 7);
      ctx.book({ day: pick.day, office, company: pick.company, onsite: true, planId, joint: [], scanned: true, matters });
    },
  },
  {
    // A company's complaint, about one of today's visits when there was one in its region.
    id: 'complaint', regions: [DEZHOU, YANTAI, PUTIAN, HAISHU, YUNHE], bookedAhead: false,
    run(ctx, office, today) {
      const nearby = today.visits.filter((v) => v.office.region === office.region);
      const about = nearby.length > 0 ? ctx.random.pick(nearby) : undefined;
      const company = about?.company ?? ctx.random.pick(ctx.companiesIn(office.region));
      ctx.records.complaint(company, office.region, about, today.day, today.out);
    },
  },
  {
    // 海曙 "及時發現已注銷……等低質量因素": a planned check of a company deregistered before it.
    id: 'deregistered_company', regions: [HAISHU], bookedAhead: true,
    run(ctx, office, today) {
      const gone = ctx.deregisteredIn(office.region).filter((c) => !ctx.ledger.visitedBy(c, office, today.day));
      if (gone.length === 0) return;
      const company = ctx.random.pick(gone);
      const day = ctx.firstDayFrom(today.day + ctx.random.int(7, 14) * DAY, ctx.isWorkingDay)!;
      const planId = fileAhead(ctx, office, today, [company], day, 1);
      ctx.book({ day, office, company, onsite: true, planId, joint: [], scanned: true });
    },
  },
  {
    // 海曙 "未同時上門": a joint plan whose partner agency comes one and a half to four hours after the lead.
    id: 'joint_not_together', regions: [HAISHU], bookedAhead: true,
    run(ctx, office, today) {
      const partner = office.partners.length > 0 ? ctx.random.pick(office.partners) : undefined;
      const start = ctx.firstDayFrom(today.day + ctx.random.int(7, 20) * DAY, ctx.isWorkingDay)!;
      const pick = partner && ctx.pickVisit(office, (c) => openDay(ctx, c, start, 1));
      if (!partner || !pick) return;
      const planId = ctx.records.plan({
        office, filedAt: ctx.records.workingMoment(today.day), windowStart: start, windowDays: 1, joint: [partner], status: 'approved',
        mode: 'onsite', companies: [pick.company],
      }, today.out);
      ctx.book({ day: pick.day, office, company: pick.company, onsite: true, planId, joint: [partner], scanned: true, jointLateMinutes: ctx.random.int(90, 240) });
    },
  },
  {
    // 海曙 "以周為單位回看執行情況,確保任務銷號": a plan filed and then neither carried out nor cancelled.
    id: 'plan_not_executed', regions: [HAISHU], bookedAhead: true,
    run(ctx, office, today) {
      const start = ctx.firstDayFrom(today.day + ctx.random.int(7, 20) * DAY, ctx.isWorkingDay)!;
      const pick = ctx.pickVisit(office, (c) => openDay(ctx, c, start, 3));
      if (pick) fileAhead(ctx, office, today, [pick.company], start, 3);
    },
  },
];

export const SPECIAL_CASES: readonly Scenario[] = [
  {
    // 烟台 "对需紧急入企无法预提报的特殊情况……通过绿色通道即时录入、即时检查": entered within minutes of entering.
    id: 'green_channel', regions: [YANTAI], bookedAhead: false,
    run(ctx, office, today) {
      const company = ctx.pickVisit(office, () => today.day)?.company;
      if (!company) return;
      today.visits.push(ctx.visitNow({
        day: today.day, office, company, onsite: true, joint: [], scanned: true, urgentReason: ctx.records.urgentReason(),
        onTheSpotPlan: { minutes: ctx.random.int(...GREEN_CHANNEL_IN_TIME) },
      }, today));
    },
  },
  {
    // One of 云和's nine special cases in the quiet period ("……等特殊情形的除外"), filed with the county just before (查前备案).
    id: 'quiet_period_special_case', regions: [YUNHE], bookedAhead: true,
    run: (ctx, office, today) => quietCheck(ctx, office, today, {
      urgentReason: ctx.records.urgentReason(), onTheSpotPlan: { minutes: -ctx.random.int(20, 90) },
    }),
  },
  {
    // "确需实施行政检查的报请本单位主要负责人批准并于3个工作日内向县综合执法办备案".
    id: 'quiet_period_filed', regions: [YUNHE], bookedAhead: true,
    run: (ctx, office, today) => quietCheck(ctx, office, today, { filingAfter: { workingDaysAfter: ctx.random.int(0, 2) } }),
  },
  {
    // "实施调研的提前三个工作日向县委办公室、县政府办公室备案".
    id: 'research_filed', regions: [YUNHE], bookedAhead: true,
    run: (ctx, office, today) => researchVisit(ctx, office, today, ctx.random.int(3, 5)),
  },
  {
    // "国家另有规定的除外": a grade-A company (免检) inspected because a national rule requires it.
    id: 'national_basis', regions: [YUNHE], bookedAhead: true,
    run(ctx, office, today) {
      const exempt = ctx.companiesIn(office.region).filter((c) => c.credit_grade === 'A' && !ctx.ledger.visitedBy(c, office, today.day));
      if (exempt.length === 0) return;
      const company = ctx.random.pick(exempt);
      const day = ctx.firstDayFrom(today.day + ctx.random.int(7, 14) * DAY, (d) => ctx.isWorkingDay(d) && !ctx.isQuiet(company, d))!;
      const planId = fileAhead(ctx, office, today, [company], day, 1);
      ctx.book({ day, office, company, onsite: true, planId, joint: [], scanned: true, nationalBasis: office.kind.nationalBasis });
    },
  },
  {
    // 领导干部入企公务: "提前三个工作日向县委办公室、县政府办公室报备"; no inspection, no record.
    id: 'leader_visit', regions: [YUNHE], bookedAhead: true,
    run(ctx, office, today) {
      const day = ctx.firstDayFrom(midnight(addWorkingDays(calendarDate(today.day), ctx.random.int(4, 8))), ctx.isWorkingDay)!;
      const company = ctx.random.pick(ctx.companiesIn(office.region));
      ctx.records.filing({ office, company, kind: 'leader_visit', visitDay: day, filedAt: ctx.records.workingMoment(today.day), origin: day }, today.out);
      ctx.book({ day, office, company, onsite: true, joint: [], scanned: true, purpose: 'leader_visit', teamSize: ctx.random.int(2, 3) });
    },
  },
  {
    // 行政指导服务: an agency helping a company on site, on any day (the quiet period bars inspections and research only).
    id: 'guidance', regions: [YUNHE, HAISHU], bookedAhead: true,
    run(ctx, office, today) {
      const day = ctx.firstDayFrom(today.day + ctx.random.int(3, 10) * DAY, ctx.isWorkingDay)!;
      const company = ctx.random.pick(ctx.companiesIn(office.region));
      ctx.book({ day, office, company, onsite: true, joint: [], scanned: true, purpose: 'guidance', teamSize: ctx.random.int(1, 2) });
    },
  },
];

/** A plan filed today for a visit a week or more ahead, carried out as `visit` says. */
function planAndBook(ctx: ScenarioContext, office: Office, today: ScenarioDay, visit: Partial<Visit>): void {
  const start = ctx.firstDayFrom(today.day + ctx.random.int(7, 20) * DAY, ctx.isWorkingDay)!;
  const windowDays = ctx.random.int(1, 5);
  const pick = ctx.pickVisit(office, (c) => openDay(ctx, c, start, windowDays));
  if (!pick) return;
  const planId = fileAhead(ctx, office, today, [pick.company], start, windowDays);
  ctx.book({ day: pick.day, office, company: pick.company, onsite: true, planId, joint: [], scanned: true, ...visit });
}

/** One agency visiting one company `count` times under one plan whose window is `windowDays` long. */
function repeatedVisits(
  ctx: ScenarioContext, office: Office, today: ScenarioDay, count: number, windowDays: number,
  accept: (c: Enterprise) => boolean = () => true, extra: (i: number) => Partial<Visit> = () => ({}),
): void {
  const candidates = ctx.companiesIn(office.region).filter((c) => accept(c) && !ctx.ledger.visitedBy(c, office, today.day));
  if (candidates.length === 0) return;
  const company = ctx.random.pick(candidates);
  const open = (start: number) => days(start, windowDays).filter((d) => ctx.isWorkingDay(d) && !ctx.isQuiet(company, d));
  const start = ctx.firstDayFrom(today.day + 7 * DAY, (d) => open(d).length >= count);
  if (start === undefined) return;
  const planId = fileAhead(ctx, office, today, [company], start, windowDays);
  ctx.random.sample(open(start), count).sort((a, b) => a - b).forEach((day, i) => {
    ctx.book({ day, office, company, onsite: true, planId, joint: [], scanned: true, ...extra(i) });
  });
}

/** A check on a day of the quiet period (下旬, quiet for every grade), planned ahead unless `visit` enters its plan on the spot. */
function quietCheck(ctx: ScenarioContext, office: Office, today: ScenarioDay, visit: Partial<Visit>): void {
  const day = ctx.firstDayFrom(today.day + 7 * DAY, (d) => ctx.isWorkingDay(d) && isLateInMonth(office.region, d));
  const company = day === undefined ? undefined : ctx.pickVisit(office, () => day)?.company;
  if (day === undefined || !company) return;
  const planId = visit.onTheSpotPlan ? undefined : fileAhead(ctx, office, today, [company], day, ctx.random.int(1, 3));
  ctx.book({ day, office, company, onsite: true, planId, joint: [], scanned: true, ...visit });
}

/** A research visit (调研) in the quiet period, filed `workingDaysAhead` before it (null: not filed). */
function researchVisit(ctx: ScenarioContext, office: Office, today: ScenarioDay, workingDaysAhead: number | null): void {
  const earliest = midnight(addWorkingDays(calendarDate(today.day), (workingDaysAhead ?? 0) + 1));
  const day = ctx.firstDayFrom(Math.max(earliest, today.day + 7 * DAY), (d) => ctx.isWorkingDay(d) && isLateInMonth(office.region, d));
  if (day === undefined) return;
  const company = ctx.random.pick(ctx.companiesIn(office.region));
  if (workingDaysAhead !== null) {
    const filedOn = midnight(addWorkingDays(calendarDate(day), -workingDaysAhead));
    ctx.records.filing({ office, company, kind: 'research', visitDay: day, filedAt: ctx.records.workingMoment(filedOn), origin: day }, today.out);
  }
  ctx.book({ day, office, company, onsite: true, joint: [], scanned: true, purpose: 'research', teamSize: ctx.random.int(1, 2) });
}

/** Files an on-site plan today for `windowDays` days from `start`; returns its id. */
function fileAhead(
  ctx: ScenarioContext, office: Office, today: ScenarioDay, companies: Enterprise[], start: number, windowDays: number,
  options: { reviewed?: boolean } = {},
): string {
  return ctx.records.plan({
    office, filedAt: ctx.records.workingMoment(today.day), windowStart: start, windowDays, joint: [], status: 'approved', mode: 'onsite', companies,
    ...options,
  }, today.out);
}

/** 下旬, the days every company of a county with a quiet period has quiet. */
function isLateInMonth(region: DemoRegion, day: number): boolean {
  return region.quietPeriod !== undefined && dayOfMonth(day).fromStart >= region.quietPeriod.fromDay;
}

function openDay(ctx: ScenarioContext, company: Enterprise, start: number, count: number): number | undefined {
  const open = days(start, count).filter((d) => ctx.isWorkingDay(d) && !ctx.isQuiet(company, d));
  return open.length > 0 ? ctx.random.pick(open) : undefined;
}

const workingDays = (ctx: ScenarioContext, start: number, count: number) => days(start, count).filter(ctx.isWorkingDay);
const days = (start: number, count: number) => Array.from({ length: count }, (_, i) => start + i * DAY);
