/** Turns simulated plans, visits and complaints into wire events. */
import type { Agency, Enterprise, EventInput, URGENT_REASONS } from '../ingest/schema.js';
import { COMPLAINT_TEXTS, type AgencyKind, type DemoRegion } from './catalogue.js';
import type { Random } from './random.js';
import { DAY, MINUTE, calendarDate, timestamp } from '../calendar/index.js';


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
  /** Other agencies of the same city, candidates for joint checks. */
  partners: Office[];
}

type UrgentReason = (typeof URGENT_REASONS)[number];

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
}

// Law enforcement normally sends two officers (两人执法); some visits bend that.
const TEAM_SIZES = [[1, 1], [2, 7], [3, 2]] as const;
const OUTCOME_WEIGHTS = [['no_issue', 60], ['rectification_ordered', 28], ['penalty', 6], ['case_opened', 3], ['other', 3]] as const;
const URGENT_REASON_WEIGHTS = [['complaint', 35], ['case', 25], ['emergency', 15], ['superior', 15], ['public_safety', 7], ['serious_dishonesty', 3]] as const;
const CATEGORY_WEIGHTS = [['misconduct', 20], ['frequent', 20], ['other', 20], ['no_scan', 15], ['no_plan', 15], ['quiet_period', 10]] as const;
const CHANNEL_WEIGHTS = [['12345', 50], ['app', 25], ['phone', 15], ['web', 10]] as const;
const QR_SHARE = 0.9;
const COMPLAINT_CITES_CHECKIN = 0.6;
const OPENING = 8 * 60 + 30;
const CLOSING = 17 * 60 + 30;
const LAST_ENTRY = 16 * 60 + 30;
const SECOND = 1000;

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
    if (draft.joint.length > 0) event.joint_agency_ids = draft.joint.map((o) => o.agency.agency_id);
    // 莱州's pilot: a plan naming a white-listed company goes to the justice bureau for review first.
    if (draft.companies.some((c) => c.whitelisted)) event.reviewed_by = 'justice_bureau';
    out.push({ at: filedAt, origin: filedAt, event });
    return event.id;
  }

  function visit(v: Visit, out: TimedEvent[]): VisitRecord {
    const start = v.day + (options.aroundTheClock ? minuteOfDay(0, 24 * 60 - 1) : minuteOfDay(OPENING, LAST_ENTRY));
    if (!v.onsite) return reviewOnPaper(v, start, out);
    const longest = options.aroundTheClock ? 180 : Math.min(180, CLOSING - (start - v.day) / MINUTE);
    const stay = random.int(20, Math.max(20, Math.floor(longest))) * MINUTE;
    const team: [Office, string][] = [
      ...random.sample(v.office.officers, random.weighted(TEAM_SIZES)).map((o): [Office, string] => [v.office, o]),
      ...v.joint.map((o): [Office, string] => [o, random.pick(o.officers)]),
    ];
    let enterCheckinId: string | undefined;
    let endedAt = start + stay;
    if (v.scanned) {
      // Each officer scans the company's code with their own phone, seconds apart.
      let at = start;
      let lastEntry = start;
      for (const [office, officer] of team) {
        const id = checkin(v, office, officer, 'enter', at, start, out);
        enterCheckinId ??= id;
        lastEntry = at;
        at += random.int(5, 40) * SECOND;
      }
      at = lastEntry + stay;
      for (const [office, officer] of team) {
        checkin(v, office, officer, 'exit', at, start, out);
        endedAt = at;
        at += random.int(5, 40) * SECOND;
      }
    }
    const officers = team.filter(([office]) => office === v.office).map(([, officer]) => officer);
    inspection(v, officers, start, endedAt, endedAt + random.int(60, 48 * 60) * MINUTE, out);
    return { company: v.company, office: v.office, startedAt: start, endedAt, enterCheckinId };
  }

  /** Off-site checks review documents remotely: a record, and nobody at the gate. */
  function reviewOnPaper(v: Visit, start: number, out: TimedEvent[]): VisitRecord {
    const endedAt = start + random.int(30, 120) * MINUTE;
    inspection(v, random.sample(v.office.officers, 2), start, endedAt, endedAt + random.int(10, 24 * 60) * MINUTE, out);
    return { company: v.company, office: v.office, startedAt: start, endedAt };
  }

  function inspection(v: Visit, officers: string[], start: number, endedAt: number, filedAt: number, out: TimedEvent[]): void {
    const event: Of<'inspection'> = {
      id: nextId(), occurred_at: timestamp(filedAt), region: v.office.region.code, source: v.office.region.source,
      type: 'inspection',
      enterprise_id: v.company.enterprise_id,
      agency_id: v.office.agency.agency_id,
      officer_ids: officers,
      started_at: timestamp(start),
      ended_at: timestamp(endedAt),
      onsite: v.onsite,
      outcome: random.weighted(OUTCOME_WEIGHTS),
    };
    if (v.planId) event.plan_id = v.planId;
    out.push({ at: filedAt, origin: start, event });
  }

  function checkin(v: Visit, office: Office, officer: string, action: 'enter' | 'exit', at: number, origin: number, out: TimedEvent[]): string {
    const event: Of<'checkin'> = {
      id: nextId(), occurred_at: timestamp(at), region: office.region.code, source: office.region.source,
      type: 'checkin',
      enterprise_id: v.company.enterprise_id,
      agency_id: office.agency.agency_id,
      officer_ids: [officer],
      action,
      method: random.chance(QR_SHARE) ? 'qr' : 'manual',
      onsite: true,
    };
    if (v.planId) event.plan_id = v.planId;
    if (v.urgentReason) event.urgent_reason = v.urgentReason;
    // Only a scan carries the phone's position; a manual entry is typed in afterwards.
    if (event.method === 'qr') {
      const { lat, lng } = office.region.center;
      event.location = { lat: round(lat + random.next() * 0.2 - 0.1), lng: round(lng + random.next() * 0.2 - 0.1) };
    }
    out.push({ at, origin, event });
    return event.id;
  }

  function complaint(company: Enterprise, city: DemoRegion, about: VisitRecord | undefined, day: number, out: TimedEvent[]): void {
    const category = random.weighted(CATEGORY_WEIGHTS);
    const at = about ? about.endedAt + random.int(30, 10 * 60) * MINUTE : workingMoment(day);
    const event: Of<'complaint'> = {
      id: nextId(), occurred_at: timestamp(at), region: city.code, source: city.source,
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

  return { plan, visit, complaint, workingMoment, urgentReason: () => random.weighted(URGENT_REASON_WEIGHTS) };
}

const round = (degrees: number) => Math.round(degrees * 1e5) / 1e5;
