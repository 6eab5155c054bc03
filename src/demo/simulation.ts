import type { Enterprise } from '../ingest/schema.js';
import { AGENCY_KINDS, type DemoRegion } from './catalogue.js';
import { createLedger } from './ledger.js';
import type { Random } from './random.js';
import { createRecords, type Office, type PlanDraft, type TimedEvent, type Visit } from './records.js';
import { SPECIAL_CASES, VIOLATIONS, type Scenario, type ScenarioContext, type ScenarioDay } from './scenarios.js';
import { DAY, addWorkingDays, calendarDate, dayOfMonth, isWeekend, midnight } from '../calendar/index.js';
import type { World } from './world.js';

/**
 * A day-by-day simulation of how agencies plan and carry out inspections.
 * Plans are filed ahead and their visits booked at filing time, so a visit
 * always has its plan on record before it happens. Violations are injected
 * on purpose at a given rate, and lawful special cases at a small fixed share
 * (src/demo/scenarios.ts), each in the regions whose policy names it; the rest
 * of the traffic keeps the rules, apart from the few plans filed late that
 * every city reports and the odd team that checks in by hand.
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
// Some plans of several companies are called off part-way (merged into another check, the matter closed):
// a cancelled version is filed after the first visits, and the visits still to come are dropped.
const CALLED_OFF_SHARE = 0.05;
// On-site visits one plan yields on average (measured); scales filings to `visitsPerDay`.
const VISITS_PER_PLAN = 1.75;
const WEEKEND_ACTIVITY = 0.1;
// Lawful special cases (a green-channel entry, a quiet-period check approved and filed, research, a leader's visit) per visit.
const SPECIAL_CASE_SHARE = 0.03;

// Differentiated supervision (云和): worse credit, more checks; A-grade is checked on paper.
const ONSITE_WEIGHT: Record<Grade, number> = { A: 0, B: 1, C: 2, D: 4 };
const OFFSITE_WEIGHT: Record<Grade, number> = { A: 3, B: 1, C: 1, D: 1 };

export function createSimulation(world: World, random: Random, options: SimulationOptions): Simulation {
  const offices = createOffices(world);
  const officeTable = offices.map((o) => [o, o.kind.workload] as const);
  const regionOf = new Map(world.regions.flatMap((r) => r.districts.map((d) => [d.code, r] as const)));
  // Deregistered companies are gone: only a scenario visits one (海曙 已注銷), routine traffic never does.
  const deregistered = world.enterprises.filter((c) => c.status === 'deregistered');
  const companiesByRegion = groupCompanies(world.enterprises.filter((c) => c.status !== 'deregistered'), regionOf);
  const ledger = createLedger();
  // A region's companies never change during a run: scenarios ask for them on every run, and copying a region of
  // 100,000 companies each time was half the generator's time (bench:backtest's 5,000,000-event history).
  const regionLists = new Map<string, readonly Enterprise[]>();
  const inRegion = (region: DemoRegion, which: string, list: () => readonly Enterprise[]) => {
    const key = `${which}:${region.code}`;
    let found = regionLists.get(key);
    if (!found) regionLists.set(key, (found = list()));
    return found;
  };
  const booked = new Map<number, Visit[]>();
  // Visits whose company is told ahead (云和 预告), by the day it is told.
  const noticeDue = new Map<number, Visit[]>();
  let simulatedDay = -Infinity;
  const records = createRecords(random, options);

  const isWorkingDay = (day: number) => options.aroundTheClock || !isWeekend(day);
  const activity = (day: number) => (isWorkingDay(day) ? 1 : WEEKEND_ACTIVITY);
  const roundRandomly = (mean: number) => Math.floor(mean) + (random.chance(mean % 1) ? 1 : 0);
  const isQuiet = (company: Enterprise, day: number) => quietOn(regionOf.get(company.region), company, day);

  const context: ScenarioContext = {
    random, records, ledger, book, isWorkingDay, isQuiet, firstDayFrom,
    visitNow(visit, today) {
      ledger.remember(visit.company, [visit.office], visit.day);
      return records.visit(visit, today.out);
    },
    pickVisit: (office, dayFor) => pickVisit(office, dayFor),
    companiesIn: (region) => inRegion(region, 'active', () => GRADES.flatMap((g) => companiesByRegion.get(region.code)?.[g] ?? [])),
    deregisteredIn: (region) => inRegion(region, 'deregistered', () => deregistered.filter((c) => regionOf.get(c.region) === region)),
  };
  const violations = cycle(VIOLATIONS, offices, random);
  const specialCases = cycle(SPECIAL_CASES, offices, random);

  function runDay(day: number, plansOnly = false): TimedEvent[] {
    if (offices.length === 0 || world.enterprises.length === 0) return [];
    const today: ScenarioDay = { day, out: [], visits: [] };
    simulatedDay = day;
    const plans = roundRandomly((options.visitsPerDay / VISITS_PER_PLAN) * activity(day));
    for (let i = 0; i < plans; i++) fileRoutinePlan(day, today.out);
    for (const visit of plansOnly ? [] : booked.get(day) ?? []) {
      const record = records.visit(visit, today.out);
      if (visit.onsite && (visit.purpose ?? 'inspection') === 'inspection') today.visits.push(record);
    }
    booked.delete(day);
    happen(violations, roundRandomly(options.visitsPerDay * activity(day) * options.violationRate), today, plansOnly);
    happen(specialCases, roundRandomly(options.visitsPerDay * activity(day) * SPECIAL_CASE_SHARE), today, plansOnly);
    // Last, so that visits booked today with a notice due today are told today too.
    for (const visit of noticeDue.get(day) ?? []) records.notice(visit, records.workingMoment(day), today.out);
    noticeDue.delete(day);
    return today.out;
  }

  /** Warm-up days only book the future: what they would do today lies before the period and is discarded anyway. */
  function happen(next: () => Cycled | undefined, count: number, today: ScenarioDay, plansOnly: boolean): void {
    for (let i = 0; i < count; i++) {
      const cycled = next();
      if (cycled && (!plansOnly || cycled.scenario.bookedAhead)) cycled.scenario.run(context, random.weighted(cycled.offices), today);
    }
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
    const draft: PlanDraft = {
      office, filedAt: records.workingMoment(day), windowStart, windowDays, joint, status,
      mode: onsite ? 'onsite' : 'offsite', companies: [...chosen.values()].map((c) => c.company),
    };
    const planId = records.plan(draft, out);
    if (status === 'cancelled') return;
    const executed = [...chosen.values()].filter(() => random.chance(EXECUTED_SHARE));
    const calledOffOn = onsite && executed.length >= 2 && random.chance(CALLED_OFF_SHARE) ? Math.min(...executed.map((c) => c.day)) + DAY : undefined;
    if (calledOffOn !== undefined) records.plan({ ...draft, planId, status: 'cancelled', filedAt: records.workingMoment(calledOffOn) }, out);
    for (const { company, day: visitDay } of executed) {
      if (calledOffOn === undefined || visitDay < calledOffOn) book({ day: visitDay, office, company, onsite, planId, joint, scanned: onsite });
    }
  }

  function book(visit: Visit): void {
    if (visit.onsite) ledger.remember(visit.company, [visit.office, ...visit.joint], visit.day);
    const ahead = records.noticeAhead(visit);
    if (ahead !== null) {
      // A visit booked later than the notice period allows is noticed today: short notice.
      const day = Math.max(midnight(addWorkingDays(calendarDate(visit.day), -ahead)), simulatedDay);
      const list = noticeDue.get(day);
      if (list) list.push(visit);
      else noticeDue.set(day, [visit]);
    }
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

  function pickCompany(region: DemoRegion, weights: Record<Grade, number>, accept: (c: Enterprise) => boolean): Enterprise | undefined {
    const buckets = companiesByRegion.get(region.code);
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

interface Cycled {
  scenario: Scenario;
  offices: ReadonlyArray<readonly [Office, number]>;
}

/**
 * Every scenario in every region of this world it belongs to, in a shuffled
 * order repeated for ever: each shows up in each of its regions once a few
 * have happened, whatever the regions' sizes.
 */
function cycle(scenarios: readonly Scenario[], offices: readonly Office[], random: Random): () => Cycled | undefined {
  const pairs = scenarios.flatMap((scenario) => scenario.regions.map((region) => ({
    scenario, offices: offices.filter((o) => o.region.code === region).map((o) => [o, o.kind.workload] as const),
  })));
  const usable = random.shuffle(pairs.filter((p) => p.offices.length > 0));
  let count = 0;
  return () => (usable.length === 0 ? undefined : usable[count++ % usable.length]);
}

/**
 * Whether a day is quiet for a company: in its own period or its county's
 * (longer for grade B). Counties without a quiet period have no quiet days.
 */
function quietOn(region: DemoRegion | undefined, company: Enterprise, day: number): boolean {
  const period = region?.quietPeriod;
  if (!period) return false;
  const { fromStart, fromEnd } = dayOfMonth(day);
  if (company.quiet_period?.days_of_month.some((d) => d === fromStart || d === fromEnd)) return true;
  return fromStart >= (company.credit_grade === 'B' ? period.gradeBFromDay : period.fromDay);
}

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

function groupCompanies(enterprises: Enterprise[], regionOf: Map<string, DemoRegion>): Map<string, Record<Grade, Enterprise[]>> {
  const byRegion = new Map<string, Record<Grade, Enterprise[]>>();
  for (const company of enterprises) {
    const region = regionOf.get(company.region);
    if (!region) continue;
    let buckets = byRegion.get(region.code);
    if (!buckets) byRegion.set(region.code, (buckets = { A: [], B: [], C: [], D: [] }));
    buckets[company.credit_grade].push(company);
  }
  return byRegion;
}
