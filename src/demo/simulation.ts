import type { Enterprise } from '../ingest/schema.js';
import { AGENCY_KINDS, type DemoRegion } from './catalogue.js';
import { createLedger } from './ledger.js';
import type { Random } from './random.js';
import { createRecords, type Office, type TimedEvent, type Visit, type VisitRecord } from './records.js';
import { DAY, dayOfMonth, isWeekend } from '../calendar/index.js';
import type { World } from './world.js';

/**
 * A day-by-day simulation of how agencies plan and carry out inspections.
 * Plans are filed ahead and their visits booked at filing time, so a visit
 * always has its plan on record before it happens. Violations are injected
 * on purpose at a given rate; the rest of the traffic keeps the rules, apart
 * from the few plans filed late that every city reports.
 */
export interface SimulationOptions {
  visitsPerDay: number;
  violationRate: number;
  idPrefix: string;
  /** Visits at any hour of any day, so a live demo never goes quiet at night. */
  aroundTheClock: boolean;
}

export interface Simulation {
  /**
   * Simulates one Shanghai day (its midnight in epoch ms). The events include
   * records filed on later days about today's visits. With `plansOnly` the day
   * only books the future: it lies before the period wanted, so its visits
   * would be discarded anyway.
   */
  runDay(day: number, plansOnly?: boolean): TimedEvent[];
}

type Grade = Enterprise['credit_grade'];
const GRADES: readonly Grade[] = ['A', 'B', 'C', 'D'];

/** The longest any plan is filed ahead, plus a day: how far back a period must start simulating. */
export const WARMUP_DAYS = 46;
const MAX_LEAD_DAYS = WARMUP_DAYS - 1;

// Yantai reports 97% of plans filed 7 days ahead; demo data shows a few more late ones.
const LATE_PLAN_SHARE = 0.08;
const PLAN_STATUSES = [['approved', 75], ['filed', 20], ['cancelled', 5]] as const;
const PLAN_SIZES = [[1, 30], [2, 25], [3, 20], [4, 15], [5, 10]] as const;
const OFFSITE_SHARE = 0.15;
const JOINT_SHARE = 0.25;
// Not every planned company is visited: plans get merged, moved or dropped on the day.
const EXECUTED_SHARE = 0.9;
// On-site visits one plan yields on average, quiet-period lull included (measured); scales filings to `visitsPerDay`.
const VISITS_PER_PLAN = 1.5;
const WEEKEND_ACTIVITY = 0.1;

// Differentiated supervision (云和): worse credit, more checks; A-grade is checked on paper.
const ONSITE_WEIGHT: Record<Grade, number> = { A: 0, B: 1, C: 2, D: 4 };
const OFFSITE_WEIGHT: Record<Grade, number> = { A: 3, B: 1, C: 1, D: 1 };

const INCIDENTS = ['no_plan', 'urgent', 'no_checkin', 'quiet_period', 'frequent', 'complaint'] as const;
type Incident = (typeof INCIDENTS)[number];

export function createSimulation(world: World, random: Random, options: SimulationOptions): Simulation {
  const offices = createOffices(world);
  const officeTable = offices.map((o) => [o, o.kind.workload] as const);
  const cityOf = new Map(world.regions.flatMap((r) => r.districts.map((d) => [d.code, r] as const)));
  const companiesByCity = groupCompanies(world.enterprises, cityOf);
  const ledger = createLedger();
  const booked = new Map<number, Visit[]>();
  const records = createRecords(random, options);
  // Cycling through a shuffled list guarantees every kind shows up once a few incidents have happened.
  const incidentOrder = random.shuffle(INCIDENTS);
  let incidentCount = 0;

  const isWorkingDay = (day: number) => options.aroundTheClock || !isWeekend(day);
  const activity = (day: number) => (isWorkingDay(day) ? 1 : WEEKEND_ACTIVITY);
  const roundRandomly = (mean: number) => Math.floor(mean) + (random.chance(mean % 1) ? 1 : 0);

  function runDay(day: number, plansOnly = false): TimedEvent[] {
    if (offices.length === 0 || world.enterprises.length === 0) return [];
    const out: TimedEvent[] = [];
    const plans = roundRandomly((options.visitsPerDay / VISITS_PER_PLAN) * activity(day));
    for (let i = 0; i < plans; i++) fileRoutinePlan(day, out);
    const visits: VisitRecord[] = [];
    for (const visit of plansOnly ? [] : booked.get(day) ?? []) {
      const record = records.visit(visit, out);
      if (visit.onsite) visits.push(record);
    }
    booked.delete(day);
    const incidents = roundRandomly(options.visitsPerDay * activity(day) * options.violationRate);
    for (let i = 0; i < incidents; i++) {
      const incident = incidentOrder[incidentCount++ % incidentOrder.length]!;
      if (!plansOnly || isBookedAhead(incident)) injectIncident(incident, day, visits, out);
    }
    return out;
  }

  function fileRoutinePlan(day: number, out: TimedEvent[]): void {
    const office = random.weighted(officeTable);
    const lead = random.chance(LATE_PLAN_SHARE) ? random.int(1, 6) : random.int(7, 20);
    // Windows open on a working day; a weekend-only window would mean a weekend visit.
    const windowStart = firstDayFrom(day + lead * DAY, isWorkingDay)!;
    const windowDays = random.int(1, 10);
    const onsite = !random.chance(OFFSITE_SHARE);
    const status = random.weighted(PLAN_STATUSES);
    const size = random.weighted(PLAN_SIZES);
    const chosen = new Map<string, { company: Enterprise; day: number }>();
    while (chosen.size < size) {
      const pick = pickVisit(office, (c) => pickVisitDay(c, windowStart, windowDays), { onsite, skip: chosen });
      if (!pick) break;
      chosen.set(pick.company.enterprise_id, pick);
    }
    if (chosen.size === 0) return;
    const free = office.partners.filter((p) => [...chosen.values()].every((c) => !ledger.visitedBy(c.company, p, c.day)));
    const joint = onsite && random.chance(JOINT_SHARE) ? random.sample(free, random.int(1, 2)) : [];
    const planId = records.plan({
      office, filedAt: records.workingMoment(day), windowStart, windowDays, joint, status,
      mode: onsite ? 'onsite' : 'offsite', companies: [...chosen.values()].map((c) => c.company),
    }, out);
    if (status === 'cancelled') return;
    for (const { company, day: visitDay } of chosen.values()) {
      if (random.chance(EXECUTED_SHARE)) book({ day: visitDay, office, company, onsite, planId, joint, scanned: onsite });
    }
  }

  /** Incidents that file a plan today for a visit a week or more ahead. */
  const isBookedAhead = (incident: Incident) => incident === 'no_checkin' || incident === 'quiet_period' || incident === 'frequent';

  function injectIncident(incident: Incident, day: number, visits: VisitRecord[], out: TimedEvent[]): void {
    const office = random.weighted(officeTable);
    // The agency's own visits would overlap with a second one on the same day.
    const anyCompany = () => pickCompany(office.region, ONSITE_WEIGHT, (c) => !ledger.visitedBy(c, office, day));
    switch (incident) {
      case 'no_plan':
      case 'urgent': {
        const company = anyCompany();
        if (!company) return;
        const urgentReason = incident === 'urgent' ? records.urgentReason() : undefined;
        ledger.remember(company, [office], day);
        visits.push(records.visit({ day, office, company, onsite: true, joint: [], scanned: true, urgentReason }, out));
        return;
      }
      case 'no_checkin': {
        const windowStart = firstDayFrom(day + random.int(7, 20) * DAY, isWorkingDay)!;
        const windowDays = random.int(1, 5);
        const pick = pickVisit(office, (c) => pickVisitDay(c, windowStart, windowDays));
        if (!pick) return;
        const { company, day: visitDay } = pick;
        const planId = records.plan({
          office, filedAt: records.workingMoment(day), windowStart, windowDays, joint: [], status: 'approved', mode: 'onsite', companies: [company],
        }, out);
        book({ day: visitDay, office, company, onsite: true, planId, joint: [], scanned: false });
        return;
      }
      case 'quiet_period': {
        const quietDay = firstDayFrom(day + 7 * DAY, (d) => isWorkingDay(d) && isQuietEverywhere(d));
        const company = quietDay === undefined ? undefined : pickVisit(office, () => quietDay)?.company;
        if (quietDay === undefined || !company) return;
        const planId = records.plan({
          office, filedAt: records.workingMoment(day), windowStart: quietDay, windowDays: random.int(1, 4), joint: [], status: 'approved', mode: 'onsite', companies: [company],
        }, out);
        book({ day: quietDay, office, company, onsite: true, planId, joint: [], scanned: true });
        return;
      }
      case 'frequent': {
        const company = anyCompany();
        if (!company) return;
        // Four visits by one agency inside one ten-day plan window: within Dezhou's 15 days.
        const windowDays = 10;
        const open = (start: number) => daysOf(start, windowDays).filter((d) => isWorkingDay(d) && !isQuiet(company, d));
        const windowStart = firstDayFrom(day + 7 * DAY, (d) => open(d).length >= 4);
        if (windowStart === undefined) return;
        const planId = records.plan({
          office, filedAt: records.workingMoment(day), windowStart, windowDays, joint: [], status: 'approved', mode: 'onsite', companies: [company],
        }, out);
        for (const visitDay of random.sample(open(windowStart), 4)) {
          book({ day: visitDay, office, company, onsite: true, planId, joint: [], scanned: true });
        }
        return;
      }
      case 'complaint': {
        const about = visits.length > 0 ? random.pick(visits) : undefined;
        const company = about?.company ?? anyCompany();
        if (company) records.complaint(company, cityOf.get(company.region)!, about, day, out);
        return;
      }
    }
  }

  function book(visit: Visit): void {
    if (visit.onsite) ledger.remember(visit.company, [visit.office, ...visit.joint], visit.day);
    const list = booked.get(visit.day);
    if (list) list.push(visit);
    else booked.set(visit.day, [visit]);
  }

  /**
   * A company and day for a visit by `office`, keeping the yearly caps by credit
   * grade, one visit a year per agency and no crowding. Dense settings (many
   * visits for few companies) run out of such companies: then the caps give
   * way first, then crowding, so a world far too small for the traffic asked
   * of it trips the frequency warning on its own; an agency still never
   * visits a company twice in a day.
   */
  function pickVisit(
    office: Office, dayFor: (c: Enterprise) => number | undefined, { onsite = true, skip = new Map<string, unknown>() } = {},
  ): { company: Enterprise; day: number } | undefined {
    const rules = onsite ? [ledger.keepsCaps, ledger.staysUncrowded, ledger.notTwiceADay] : [() => true];
    for (const allowed of rules) {
      let day: number | undefined;
      const company = pickCompany(office.region, onsite ? ONSITE_WEIGHT : OFFSITE_WEIGHT, (c) => {
        if (skip.has(c.enterprise_id)) return false;
        day = dayFor(c);
        return day !== undefined && allowed(c, office, day);
      });
      if (company && day !== undefined) return { company, day };
    }
    return undefined;
  }

  function pickVisitDay(company: Enterprise, windowStart: number, windowDays: number): number | undefined {
    const open: number[] = [];
    for (let d = windowStart; d < windowStart + windowDays * DAY; d += DAY) if (isWorkingDay(d) && !isQuiet(company, d)) open.push(d);
    return open.length > 0 ? random.pick(open) : undefined;
  }

  function pickCompany(city: DemoRegion, weights: Record<Grade, number>, accept: (c: Enterprise) => boolean): Enterprise | undefined {
    const buckets = companiesByCity.get(city.code);
    if (!buckets) return undefined;
    const table = GRADES.map((g) => [g, buckets[g].length * weights[g]] as const).filter(([, w]) => w > 0);
    if (table.length === 0) return undefined;
    for (let attempt = 0; attempt < 12; attempt++) {
      const company = random.pick(buckets[random.weighted(table)]);
      if (accept(company)) return company;
    }
    return undefined;
  }

  return { runDay };
}

/**
 * The region default is the last third of the month (下旬, from the 21st), and
 * some rules read it as the last ten days; clean visits avoid both readings.
 */
function isQuiet(company: Enterprise, day: number): boolean {
  const { fromStart, fromEnd } = dayOfMonth(day);
  if (company.quiet_period) return company.quiet_period.days_of_month.some((d) => d === fromStart || d === fromEnd);
  return fromStart >= 21 || fromEnd >= -10;
}

/** Quiet under both readings of the default, and inside every long override (the last 15 days). */
function isQuietEverywhere(day: number): boolean {
  const { fromStart, fromEnd } = dayOfMonth(day);
  return fromStart >= 21 && fromEnd >= -10;
}

const daysOf = (start: number, count: number) => Array.from({ length: count }, (_, i) => start + i * DAY);

/** Searches start at least a week ahead and must not book past what the warm-up covers. */
function firstDayFrom(start: number, ok: (day: number) => boolean): number | undefined {
  for (let day = start; day < start + (MAX_LEAD_DAYS - 6) * DAY; day += DAY) if (ok(day)) return day;
  return undefined;
}

function createOffices(world: World): Office[] {
  const offices = world.agencies.flatMap((agency): Office[] => {
    const region = world.regions.find((r) => r.code === agency.region);
    const kind = AGENCY_KINDS.find((k) => k.kind === agency.kind);
    const officers = world.officers[agency.agency_id] ?? [];
    return region && kind && officers.length > 0 ? [{ agency, region, kind, officers, partners: [] }] : [];
  });
  for (const office of offices) office.partners = offices.filter((o) => o !== office && o.region === office.region);
  return offices;
}

function groupCompanies(enterprises: Enterprise[], cityOf: Map<string, DemoRegion>): Map<string, Record<Grade, Enterprise[]>> {
  const byCity = new Map<string, Record<Grade, Enterprise[]>>();
  for (const company of enterprises) {
    const city = cityOf.get(company.region);
    if (!city) continue;
    let buckets = byCity.get(city.code);
    if (!buckets) byCity.set(city.code, (buckets = { A: [], B: [], C: [], D: [] }));
    buckets[company.credit_grade].push(company);
  }
  return byCity;
}
