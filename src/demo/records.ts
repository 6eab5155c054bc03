/** Turns simulated plans, visits, filings and complaints into wire events. */
import type { Agency, Enterprise, EventInput, FILING_KINDS, OUTCOMES, PURPOSES, URGENT_REASONS } from '../ingest/schema.js';
import { COMPLAINT_TEXTS, type AgencyKind, type DemoRegion } from './catalogue.js';
import type { Random } from './random.js';
import { DAY, MINUTE, addWorkingDays, calendarDate, midnight, timestamp } from '../calendar/index.js';

export interface TimedEvent {
  at: number;
  /**
   * When the visit an event belongs to began (its own time otherwise). A period
   * keeps an event only if this falls inside it, so no record outlives its check-ins.
   */
  origin: number;
  event: EventInput;
}

export interface Office {
  agency: Agency;
  region: DemoRegion;
  kind: AgencyKind;
  officers: string[];
  /** Other agencies of the same region, candidates for joint checks. */
  partners: Office[];
}

export type UrgentReason = (typeof URGENT_REASONS)[number];
type Purpose = (typeof PURPOSES)[number];
type FilingKind = (typeof FILING_KINDS)[number];
type Outcome = (typeof OUTCOMES)[number];

export interface Visit {
  day: number;
  office: Office;
  company: Enterprise;
  onsite: boolean;
  planId?: string;
  joint: Office[];
  urgentReason?: UrgentReason | undefined;
  /** False when the record is filed without anyone having scanned in. */
  scanned: boolean;
  /** Inspection unless said otherwise; research, guidance and leaders' visits leave scans but no inspection record. */
  purpose?: Purpose;
  /** 国家另有规定: the national rule that requires this visit (the annual cap does not count it). */
  nationalBasis?: string;
  /** Officers of the agency on site (default: a usual team of one to three). */
  teamSize?: number;
  /** Officers named on the record who never scan (云和 asks every officer to show his code). */
  unscannedOfficers?: number;
  /** Nobody scans out (德州 asks for scans on entering and on leaving). */
  noExitScan?: boolean;
  /** The joint agencies arrive this many minutes after the lead agency (海曙 未同時上門); by default together. */
  jointLateMinutes?: number;
  /**
   * A plan entered at the time of the visit rather than ahead, `minutes` from the first entry: before it
   * (an urgent check filed just before, 查前备案) or after it (烟台's green channel, 即时录入); null: never entered.
   */
  onTheSpotPlan?: { minutes: number | null };
  /** A filing after the visit: an ordinary quiet-period check approved by the head and filed `workingDaysAfter` later (0: the same day). */
  filingAfter?: { workingDaysAfter: number };
  /**
   * The 预告 to the company `workingDaysAhead` before the visit's day, or null: none. By default 云和's
   * inspections are noticed 5 to 8 working days ahead ("预告期限一般不少于5个工作日"), urgent ones not at all.
   */
  notice?: { workingDaysAhead: number | null };
  /** The agency's officers and each joint agency's officer, chosen when the company is told (or at the visit). */
  officers?: string[];
  jointOfficers?: string[];
  /** The company's score for the visit; by default 德州's and 烟台's companies rate about half their visits, mostly well. */
  score?: number;
  /** Minutes on site instead of the usual 20 to 180 (德州's platform shows 执法时长). */
  stayMinutes?: number;
  /** The record is filed this many working days after the visit's day instead of within two days (莆田 asks for 5). */
  recordAfterWorkingDays?: number;
  /** The record's outcome and matters instead of random ones. */
  outcome?: Outcome;
  matters?: string[];
  /** A penalty whose record leaves out the 救济途径 and 信用修复流程 (莆田 asks for both). */
  penaltyWithoutRemedies?: boolean;
}

export interface VisitRecord {
  company: Enterprise;
  office: Office;
  startedAt: number;
  endedAt: number;
  enterCheckinId?: string | undefined;
}

export interface PlanDraft {
  office: Office;
  filedAt: number;
  windowStart: number;
  windowDays: number;
  joint: Office[];
  status: 'filed' | 'approved' | 'cancelled';
  mode: 'onsite' | 'offsite';
  companies: Enterprise[];
  /** A later version of this plan (supersedes it; `cancelled` withdraws it). */
  planId?: string;
  /** A green-channel entry of an urgent check. */
  urgentReason?: UrgentReason;
  /** Sent to the justice bureau first when it names a white-listed company (default); false: it was not. */
  reviewed?: boolean;
}

export interface FilingDraft {
  office: Office;
  company: Enterprise;
  kind: FilingKind;
  visitDay: number;
  filedAt: number;
  /** The visit's start, or its day when the filing comes first: the filing belongs to the visit's period. */
  origin: number;
}

// Law enforcement normally sends two officers (两人执法); some visits bend that.
const TEAM_SIZES = [[1, 1], [2, 7], [3, 2]] as const;
const OUTCOME_WEIGHTS = [['no_issue', 60], ['rectification_ordered', 28], ['penalty', 6], ['case_opened', 3], ['other', 3]] as const;
const URGENT_REASON_WEIGHTS = [
  ['complaint', 30], ['case', 20], ['emergency', 12], ['superior', 12], ['public_safety', 7], ['life_property', 7],
  ['public_interest', 5], ['social_impact', 4], ['serious_dishonesty', 3],
] as const;
const CATEGORY_WEIGHTS = [['misconduct', 20], ['frequent', 20], ['other', 20], ['no_scan', 15], ['no_plan', 15], ['quiet_period', 10]] as const;
const CHANNEL_WEIGHTS = [['12345', 50], ['app', 25], ['phone', 15], ['web', 10]] as const;
// A team scans the code at the gate; when that fails (no signal, a worn code) all of it checks in by hand.
const QR_SHARE = 0.97;
const COMPLAINT_CITES_CHECKIN = 0.6;
// Where the company is told of an inspection ahead (云和 预告), and where it rates a visit, by which channel.
const NOTICE_REGIONS: ReadonlySet<string> = new Set(['331125']);
// A visit planned late (a plan filed less than a week ahead) is noticed when it is booked, short of the 5 working days.
const NOTICE_WORKING_DAYS = [5, 8] as const;
const EVALUATION_CHANNEL: Readonly<Record<string, 'sms' | 'app'>> = { 371400: 'sms', 370600: 'app' };
const EVALUATION_SHARE = 0.5;
// Most companies are satisfied: 德州's example scored 95 (十分满意); low scores are injected.
const SCORE_BANDS: ReadonlyArray<readonly [readonly [number, number], number]> = [[[90, 100], 70], [[80, 89], 22], [[60, 79], 8]];
const EVALUATION_COMMENTS = ['流程规范,检查到位', '检查人员态度好,没耽误生产', '指导很专业', '时间安排合理'];
const DISSATISFIED_COMMENTS = ['检查时间过长,影响生产', '检查人员态度生硬', '同一事项反复检查', '未提前告知检查时间'];
const REMEDIES = '如不服本处罚决定,可在收到决定书之日起60日内申请行政复议,或6个月内向人民法院提起行政诉讼';
const CREDIT_REPAIR = '履行处罚决定满最短公示期后,可通过“信用中国”网站在线申请信用修复';
const OPENING = 8 * 60 + 30;
const CLOSING = 17 * 60 + 30;
const LAST_ENTRY = 16 * 60 + 30;
const SECOND = 1000;
const FILED_WITH: Record<FilingKind, 'county_enforcement_office' | 'county_party_government_offices'> = {
  quiet_period_check: 'county_enforcement_office',
  research: 'county_party_government_offices',
  leader_visit: 'county_party_government_offices',
};
const FILING_NOTES: Record<FilingKind, string> = {
  quiet_period_check: '安静期内确需实施行政检查，已报本单位主要负责人批准',
  research: '安静期内入企调研，提前三个工作日备案',
  leader_visit: '领导干部入企公务活动，提前三个工作日报备',
};

type Of<T extends EventInput['type']> = Extract<EventInput, { type: T }>;

// Optional fields are assigned after the literal, not spread into it: spreads
// made building events the slowest part of generating large data sets.
export function createRecords(random: Random, options: { idPrefix: string; aroundTheClock: boolean }) {
  let seq = 0;
  const nextId = () => `${options.idPrefix}-${++seq}`;
  const minuteOfDay = (from: number, to: number) => (random.int(from, to) * 60 + random.int(0, 59)) * SECOND;
  const workingMoment = (day: number) => day + minuteOfDay(OPENING, CLOSING - 1);

  function plan(draft: PlanDraft, out: TimedEvent[]): string {
    const { office, filedAt } = draft;
    const event: Of<'plan'> = {
      id: nextId(), occurred_at: timestamp(filedAt), region: office.region.code, source: office.region.source,
      type: 'plan',
      agency_id: office.agency.agency_id,
      enterprise_ids: draft.companies.map((c) => c.enterprise_id),
      window_start: calendarDate(draft.windowStart),
      window_end: calendarDate(draft.windowStart + (draft.windowDays - 1) * DAY),
      mode: draft.mode,
      matters: random.sample(office.kind.matters, random.int(1, 3)),
      status: draft.status,
    };
    if (draft.planId) event.plan_id = draft.planId;
    if (draft.joint.length > 0) event.joint_agency_ids = draft.joint.map((o) => o.agency.agency_id);
    // 莱州's pilot: a plan naming a white-listed company goes to the justice bureau for review first.
    if (draft.reviewed !== false && draft.companies.some((c) => c.whitelisted)) event.reviewed_by = 'justice_bureau';
    if (draft.urgentReason) event.urgent_reason = draft.urgentReason;
    out.push({ at: filedAt, origin: filedAt, event });
    return draft.planId ?? event.id;
  }

  function filing(draft: FilingDraft, out: TimedEvent[]): void {
    const { office } = draft;
    const event: Of<'filing'> = {
      id: nextId(), occurred_at: timestamp(draft.filedAt), region: office.region.code, source: office.region.source,
      type: 'filing',
      agency_id: office.agency.agency_id,
      enterprise_id: draft.company.enterprise_id,
      kind: draft.kind,
      filed_with: FILED_WITH[draft.kind],
      visit_date: calendarDate(draft.visitDay),
      note: FILING_NOTES[draft.kind],
    };
    // The head of unit (主要负责人) approves an ordinary check in the quiet period before it is filed.
    if (draft.kind === 'quiet_period_check') event.approved_by = `${office.agency.agency_id}-FZR`;
    out.push({ at: draft.filedAt, origin: draft.origin, event });
  }

  function visit(v: Visit, out: TimedEvent[]): VisitRecord {
    const start = v.day + (options.aroundTheClock ? minuteOfDay(0, 24 * 60 - 1) : minuteOfDay(OPENING, LAST_ENTRY));
    if (!v.onsite) return reviewOnPaper(v, start, out);
    const entry = v.onTheSpotPlan;
    // An entry made before the visit is on file when the officers scan; one made after is named on the record only.
    const planId = entry?.minutes != null
      ? plan({
        office: v.office, filedAt: start + entry.minutes * MINUTE, windowStart: v.day, windowDays: 1, joint: [], status: 'filed',
        mode: 'onsite', companies: [v.company], ...(v.urgentReason ? { urgentReason: v.urgentReason } : {}),
      }, out)
      : v.planId;
    const scanPlanId = entry?.minutes != null && entry.minutes > 0 ? undefined : planId;
    const longest = options.aroundTheClock ? 180 : Math.min(180, CLOSING - (start - v.day) / MINUTE);
    const stay = (v.stayMinutes ?? random.int(20, Math.max(20, Math.floor(longest)))) * MINUTE;
    const { own, joint, matters } = crew(v);
    const team: [Office, string][] = [
      ...own.map((o): [Office, string] => [v.office, o]),
      ...v.joint.map((o, i): [Office, string] => [o, joint[i]!]),
    ];
    const unscanned = new Set(own.slice(own.length - (v.unscannedOfficers ?? 0)));
    const purpose = v.purpose ?? 'inspection';
    const scanning = team.filter(([, officer]) => !unscanned.has(officer));
    const method = random.chance(QR_SHARE) ? 'qr' : 'manual';
    let enterCheckinId: string | undefined;
    let endedAt = start + stay;
    const enteredAt = new Map<Office, number>();
    if (v.scanned) {
      // Each officer scans the company's code with their own phone, seconds apart.
      let at = start;
      let lastEntry = start;
      const entered = new Map<string, number>();
      for (const [office, officer] of scanning) {
        if (office !== v.office && v.jointLateMinutes) at = Math.max(at, start + v.jointLateMinutes * MINUTE);
        const id = checkin(v, office, officer, 'enter', method, at, start, scanPlanId, out);
        if (!enteredAt.has(office)) enteredAt.set(office, at);
        enterCheckinId ??= id;
        entered.set(officer, at);
        lastEntry = at;
        at += random.int(5, 40) * SECOND;
      }
      // A late partner stays as long as the others, from its own arrival; otherwise everyone leaves together.
      at = (v.jointLateMinutes ? start : lastEntry) + stay;
      for (const [office, officer] of v.noExitScan ? [] : scanning) {
        if (v.jointLateMinutes) at = Math.max(at, entered.get(officer)! + stay);
        checkin(v, office, officer, 'exit', method, at, start, scanPlanId, out);
        endedAt = at;
        at += random.int(5, 40) * SECOND;
      }
    }
    if (v.filingAfter) {
      const filedAt = v.filingAfter.workingDaysAfter === 0
        ? endedAt + random.int(30, 120) * MINUTE
        : workingMoment(midnight(addWorkingDays(calendarDate(v.day), v.filingAfter.workingDaysAfter)));
      filing({ office: v.office, company: v.company, kind: 'quiet_period_check', visitDay: v.day, filedAt, origin: start }, out);
    }
    if (purpose === 'inspection') {
      const officers = team.filter(([office]) => office === v.office).map(([, officer]) => officer);
      const filedAt = v.recordAfterWorkingDays === undefined ? endedAt + random.int(60, 48 * 60) * MINUTE
        : workingMoment(midnight(addWorkingDays(calendarDate(v.day), v.recordAfterWorkingDays)));
      inspection(v, officers, planId, start, endedAt, filedAt, matters, out);
      // Each agency of a joint check files its own record (莆田: every 检查部门 feeds back), from its own first entry.
      for (const partner of v.joint) {
        const partnerOfficers = team.filter(([office]) => office === partner).map(([, officer]) => officer);
        inspection({ ...v, office: partner, outcome: undefined, matters: undefined }, partnerOfficers, planId, enteredAt.get(partner) ?? start, endedAt,
          endedAt + random.int(60, 48 * 60) * MINUTE, [random.pick(partner.kind.matters)], out);
      }
      const channel = EVALUATION_CHANNEL[v.office.region.code];
      if (channel && (v.score !== undefined || random.chance(EVALUATION_SHARE))) evaluation(v, channel, endedAt, start, enterCheckinId, out);
    }
    return { company: v.company, office: v.office, startedAt: start, endedAt, enterCheckinId };
  }

  /**
   * Who comes and what they check: chosen when the company is told (预告) if it is, so that the visit is what was
   * noticed, or else when the visit happens. Kept on the booked visit.
   */
  function crew(v: Visit): { own: string[]; joint: string[]; matters: string[] } {
    v.officers ??= random.sample(v.office.officers, v.teamSize ?? random.weighted(TEAM_SIZES));
    v.jointOfficers ??= v.joint.map((o) => random.pick(o.officers));
    v.matters ??= random.sample(v.office.kind.matters, random.int(1, 2));
    return { own: v.officers, joint: v.jointOfficers, matters: v.matters };
  }

  /** How many working days ahead the company is told of a booked visit, or null: not at all (云和's 预告 only). */
  function noticeAhead(v: Visit): number | null {
    if (v.notice !== undefined) return v.notice.workingDaysAhead;
    if (!NOTICE_REGIONS.has(v.office.region.code) || (v.purpose ?? 'inspection') !== 'inspection' || !v.onsite || v.urgentReason) return null;
    return random.int(...NOTICE_WORKING_DAYS);
  }

  /** The 预告: each agency of the visit tells the company of its officers (检查人员), matters and day, at `at`. */
  function notice(v: Visit, at: number, out: TimedEvent[]): void {
    const { own, joint, matters } = crew(v);
    for (const [i, office] of [v.office, ...v.joint].entries()) {
      const event: Of<'notice'> = {
        id: nextId(), occurred_at: timestamp(at), region: office.region.code, source: office.region.source,
        type: 'notice',
        enterprise_id: v.company.enterprise_id,
        agency_id: office.agency.agency_id,
        officer_ids: i === 0 ? own : [joint[i - 1]!],
        matters: i === 0 ? matters : [random.pick(office.kind.matters)],
        visit_date: calendarDate(v.day),
        channel: 'sms',
      };
      out.push({ at, origin: v.day, event });
    }
  }

  function evaluation(v: Visit, channel: 'sms' | 'app', endedAt: number, origin: number, visitEventId: string | undefined, out: TimedEvent[]): void {
    const at = endedAt + random.int(10, 240) * MINUTE;
    const score = v.score ?? random.int(...random.weighted(SCORE_BANDS));
    const event: Of<'evaluation'> = {
      id: nextId(), occurred_at: timestamp(at), region: v.office.region.code, source: v.office.region.source,
      type: 'evaluation',
      enterprise_id: v.company.enterprise_id,
      agency_id: v.office.agency.agency_id,
      score,
      channel,
      comment: random.pick(score < 60 ? DISSATISFIED_COMMENTS : EVALUATION_COMMENTS),
    };
    if (visitEventId) event.visit_event_id = visitEventId;
    out.push({ at, origin, event });
  }

  /** Off-site checks review documents remotely: a record, and nobody at the gate. */
  function reviewOnPaper(v: Visit, start: number, out: TimedEvent[]): VisitRecord {
    const endedAt = start + random.int(30, 120) * MINUTE;
    const matters = v.matters ?? random.sample(v.office.kind.matters, random.int(1, 2));
    inspection(v, random.sample(v.office.officers, 2), v.planId, start, endedAt, endedAt + random.int(10, 24 * 60) * MINUTE, matters, out);
    return { company: v.company, office: v.office, startedAt: start, endedAt };
  }

  function inspection(
    v: Visit, officers: string[], planId: string | undefined, start: number, endedAt: number, filedAt: number, matters: string[], out: TimedEvent[],
  ): void {
    const outcome = v.outcome ?? random.weighted(OUTCOME_WEIGHTS);
    const event: Of<'inspection'> = {
      id: nextId(), occurred_at: timestamp(filedAt), region: v.office.region.code, source: v.office.region.source,
      type: 'inspection',
      enterprise_id: v.company.enterprise_id,
      agency_id: v.office.agency.agency_id,
      officer_ids: officers,
      started_at: timestamp(start),
      ended_at: timestamp(endedAt),
      onsite: v.onsite,
      outcome,
      matters,
    };
    // A penalty's record carries the remedies and the credit-repair procedure (莆田: "还应上传救济途径、信用修复流程等").
    if (outcome === 'penalty' && !v.penaltyWithoutRemedies) {
      event.remedies = REMEDIES;
      event.credit_repair = CREDIT_REPAIR;
    }
    if (planId) event.plan_id = planId;
    if (v.urgentReason) event.urgent_reason = v.urgentReason;
    if (v.nationalBasis) event.national_basis = v.nationalBasis;
    out.push({ at: filedAt, origin: start, event });
  }

  function checkin(
    v: Visit, office: Office, officer: string, action: 'enter' | 'exit', method: 'qr' | 'manual', at: number, origin: number,
    planId: string | undefined, out: TimedEvent[],
  ): string {
    const event: Of<'checkin'> = {
      id: nextId(), occurred_at: timestamp(at), region: office.region.code, source: office.region.source,
      type: 'checkin',
      enterprise_id: v.company.enterprise_id,
      agency_id: office.agency.agency_id,
      officer_ids: [officer],
      action,
      method,
      onsite: true,
    };
    if (v.purpose && v.purpose !== 'inspection') event.purpose = v.purpose;
    if (planId) event.plan_id = planId;
    if (v.urgentReason) event.urgent_reason = v.urgentReason;
    if (v.nationalBasis) event.national_basis = v.nationalBasis;
    // Only a scan carries the phone's position; a manual entry is typed in afterwards.
    if (method === 'qr') {
      const { lat, lng } = office.region.center;
      event.location = { lat: round(lat + random.next() * 0.2 - 0.1), lng: round(lng + random.next() * 0.2 - 0.1) };
    }
    out.push({ at, origin, event });
    return event.id;
  }

  function complaint(company: Enterprise, region: DemoRegion, about: VisitRecord | undefined, day: number, out: TimedEvent[]): void {
    const category = random.weighted(CATEGORY_WEIGHTS);
    const at = about ? about.endedAt + random.int(30, 10 * 60) * MINUTE : workingMoment(day);
    const event: Of<'complaint'> = {
      id: nextId(), occurred_at: timestamp(at), region: region.code, source: region.source,
      type: 'complaint',
      enterprise_id: company.enterprise_id,
      category,
      channel: random.weighted(CHANNEL_WEIGHTS),
      text: random.pick(COMPLAINT_TEXTS[category]),
    };
    if (about) event.agency_id = about.office.agency.agency_id;
    if (about?.enterCheckinId && category !== 'no_scan' && random.chance(COMPLAINT_CITES_CHECKIN)) event.checkin_id = about.enterCheckinId;
    out.push({ at, origin: about ? about.startedAt : at, event });
  }

  return { plan, filing, visit, complaint, notice, noticeAhead, workingMoment, urgentReason: (): UrgentReason => random.weighted(URGENT_REASON_WEIGHTS) };
}

export type Records = ReturnType<typeof createRecords>;

const round = (degrees: number) => Math.round(degrees * 1e5) / 1e5;
