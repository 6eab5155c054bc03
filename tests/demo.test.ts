import { join } from 'node:path';
import { beforeAll, describe, it, expect } from 'vitest';
import { loadRuleSet } from '../src/rules/load.js';
import { createRandom, createWorld, generateEvents, liveEvents } from '../src/demo/index.js';
import { Agency, Enterprise, Event, Officer, type EventInput } from '../src/ingest/schema.js';
import { creditCodeProblem } from '../src/ingest/credit-code.js';
import { WARMUP_DAYS } from '../src/demo/simulation.js';
import { addDays, isWorkingDay, timestamp } from '../src/calendar/index.js';

type Of<T extends EventInput['type']> = Extract<EventInput, { type: T }>;
const ofType = <T extends EventInput['type']>(events: EventInput[], type: T) => events.filter((e): e is Of<T> => e.type === type);

const MINUTE = 60_000;
const DAY = 86_400_000;
const from = new Date('2026-03-01T00:00:00+08:00');
const to = new Date('2026-03-31T00:00:00+08:00');

const world = createWorld({ seed: 7 });
const started = performance.now();
const events = generateEvents(world, { seed: 7, from, to });
const elapsed = performance.now() - started;
const clean = generateEvents(world, { seed: 7, from, to, violationRate: 0 });

const time = (iso: string) => Date.parse(iso);
const clock = (e: EventInput) => e.occurred_at.slice(11, 16);
const isWeekday = (date: string) => ![0, 6].includes(new Date(`${date}T12:00:00Z`).getUTCDay());
const companyById = new Map(world.enterprises.map((c) => [c.enterprise_id, c]));

/** Day of month counted from the start and from the end (-1 = last day). */
function monthDay(date: string): { fromStart: number; fromEnd: number } {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return { fromStart: day, fromEnd: day - daysInMonth - 1 };
}

const DEZHOU = '371400';
const YANTAI = '370600';
const PUTIAN = '350300';
const HAISHU = '330203';
const YUNHE = '331125';
/** Where the shipped policy map requires a plan (no-plan), and every officer to scan in (entry-without-scan). */
const policy = (await loadRuleSet(join(import.meta.dirname, '..', 'rules'))).policy!;
const holding = (rule: string) => [DEZHOU, YANTAI, PUTIAN, HAISHU, YUNHE].filter((region) => policy.forRegion(region).rules.has(rule));
const PLAN_REGIONS = holding('no-plan');
const SCAN_REGIONS = holding('entry-without-scan');
const GRADE_CAP = { A: 0, B: 1, C: 2, D: 4 } as const;

/** 云和's quiet period: 下旬, from the 16th for grade B, or the company's own days; no other demo region has one. */
function isQuietFor(company: Enterprise, date: string): boolean {
  if (company.region !== YUNHE) return false;
  const { fromStart, fromEnd } = monthDay(date);
  if (company.quiet_period?.days_of_month.some((d) => d === fromStart || d === fromEnd)) return true;
  return fromStart >= (company.credit_grade === 'B' ? 16 : 21);
}

const leadDays = (p: Of<'plan'>) => (time(`${p.window_start}T00:00:00+08:00`) - time(`${p.occurred_at.slice(0, 10)}T00:00:00+08:00`)) / DAY;
const visitStart = (e: Of<'checkin'> | Of<'inspection'>) => time(e.type === 'inspection' ? e.started_at : e.occurred_at);
/** Working days from `a` to `b`: positive when `b` is later. */
function workingDaysBetween(a: string, b: string): number {
  const [first, last, sign] = a <= b ? [a, b, 1] : [b, a, -1];
  let n = 0;
  for (let d = addDays(first, 1); d <= last; d = addDays(d, 1)) if (isWorkingDay(d)) n++;
  return sign * n;
}

/** One agency's presence at one company on one day: its scans and its on-site records. */
interface DayVisit {
  region: string;
  agency: string;
  company: string;
  date: string;
  purpose: string;
  enters: Of<'checkin'>[];
  exits: Of<'checkin'>[];
  records: Of<'inspection'>[];
}

function visitsOf(list: EventInput[]): DayVisit[] {
  const visits = new Map<string, DayVisit>();
  for (const e of list) {
    if ((e.type !== 'checkin' && e.type !== 'inspection') || e.onsite === false) continue;
    const date = timestamp(visitStart(e)).slice(0, 10);
    const key = `${e.agency_id}|${e.enterprise_id}|${date}`;
    let visit = visits.get(key);
    if (!visit) {
      visit = { region: e.region, agency: e.agency_id, company: e.enterprise_id, date, purpose: e.purpose ?? 'inspection', enters: [], exits: [], records: [] };
      visits.set(key, visit);
    }
    if (e.type === 'inspection') visit.records.push(e);
    else (e.action === 'enter' ? visit.enters : visit.exits).push(e);
  }
  return [...visits.values()];
}

const planOf = (visit: DayVisit, plans: Map<string, Of<'plan'>>) => {
  const id = [...visit.enters, ...visit.records].find((e) => e.plan_id)?.plan_id;
  return id === undefined ? undefined : plans.get(id);
};
const firstEntry = (visit: DayVisit) => Math.min(...visit.enters.map((c) => time(c.occurred_at)), ...visit.records.map((r) => time(r.started_at)));
const isUrgent = (visit: DayVisit) => [...visit.enters, ...visit.records].some((e) => e.urgent_reason);
const hasNationalBasis = (visit: DayVisit) => [...visit.enters, ...visit.records].some((e) => e.national_basis);
const isQuietDay = (visit: DayVisit) => isQuietFor(companyById.get(visit.company)!, visit.date);
const filingsFor = (visit: DayVisit, filings: Of<'filing'>[], kind: Of<'filing'>['kind']) =>
  filings.filter((f) => f.kind === kind && f.agency_id === visit.agency && f.enterprise_id === visit.company && f.visit_date === visit.date);
const regionsOf = (list: readonly { region: string }[]) => new Set(list.map((v) => v.region));
const only = (list: readonly { region: string }[], allowed: string[]) => [...regionsOf(list)].filter((r) => !allowed.includes(r));

/** 云和's agency-company pairs with more inspections than the company's grade allows, visits under national rules left out. */
function overGradeCap(inspections: DayVisit[]): string[] {
  const counted = new Map<string, number>();
  for (const v of inspections.filter((v) => v.region === YUNHE && !hasNationalBasis(v))) {
    counted.set(`${v.agency}|${v.company}`, (counted.get(`${v.agency}|${v.company}`) ?? 0) + 1);
  }
  return [...counted].filter(([key, n]) => n > GRADE_CAP[companyById.get(key.split('|')[1]!)!.credit_grade]).map(([key]) => key);
}

/** Visit days per company (any agency) or per agency and company, sorted. */
function visitDays(list: EventInput[], byAgency: boolean): Map<string, string[]> {
  const days = new Map<string, Set<string>>();
  for (const v of visitsOf(list)) {
    const key = byAgency ? `${v.agency}|${v.company}` : v.company;
    if (!days.has(key)) days.set(key, new Set());
    days.get(key)!.add(v.date);
  }
  return new Map([...days].map(([key, set]) => [key, [...set].sort()]));
}

/** `count` visit days within `span` calendar days, both ends counted. */
const crowded = (days: string[], count: number, span: number) =>
  days.some((d, i) => i + count - 1 < days.length && time(`${days[i + count - 1]}T00:00:00+08:00`) - time(`${d}T00:00:00+08:00`) < span * DAY);

describe('createRandom', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const draw = (seed: number) => { const r = createRandom(seed); return Array.from({ length: 20 }, () => r.next()); };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(42).every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('keeps int in bounds, weighs picks and shuffles without losing items', () => {
    const r = createRandom(1);
    const ints = Array.from({ length: 2000 }, () => r.int(3, 6));
    expect(new Set(ints)).toEqual(new Set([3, 4, 5, 6]));
    const heavy = Array.from({ length: 4000 }, () => r.weighted([['a', 9], ['b', 1]] as const)).filter((x) => x === 'a').length;
    expect(heavy / 4000).toBeGreaterThan(0.85);
    expect(heavy / 4000).toBeLessThan(0.95);
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = r.shuffle(items);
    expect(shuffled).not.toEqual(items);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(items);
    expect(new Set(r.sample(items, 10)).size).toBe(10);
    expect(() => r.pick([])).toThrow(RangeError);
  });
});

describe('createWorld', () => {
  it('is reproducible from its seed', () => {
    expect(createWorld({ seed: 7 })).toEqual(world);
    expect(createWorld({ seed: 8 }).enterprises).not.toEqual(world.enterprises);
  });

  it('has three cities and two Zhejiang counties, their agencies named at their level, officers for every agency', () => {
    expect(world.regions.map((r) => r.code)).toEqual(['371400', '370600', '350300', '331125', '330203']);
    expect(world.agencies).toHaveLength(3 * 5 + 2 * 6);
    const names = Object.fromEntries(world.agencies.map((a) => [a.agency_id, a.name]));
    expect(names).toMatchObject({
      '371400-SCJG': '德州市市场监督管理局', '371400-XFJY': '德州市消防救援支队', '370600-STHJ': '烟台市生态环境局',
      '331125-SCJG': '云和县市场监督管理局', '331125-ZHZF': '云和县综合行政执法局', '331125-XFJY': '云和县消防救援大队',
      '331125-STHJ': '丽水市生态环境局云和分局', '330203-YJGL': '宁波市海曙区应急管理局', '330203-STHJ': '宁波市生态环境局海曙分局',
    });
    // 综合行政执法 inspects companies only where Zhejiang's reform gave it the matters.
    expect(world.agencies.filter((a) => a.kind === 'comprehensive_enforcement').map((a) => a.region)).toEqual(['331125', '330203']);
    expect(new Set(world.agencies.map((a) => a.kind))).toEqual(new Set(['market_regulation', 'emergency', 'ecology', 'fire', 'agriculture', 'comprehensive_enforcement']));
    for (const agency of world.agencies) {
      expect(agency.agency_id).toMatch(/^\d{6}-[A-Z]{4}$/);
      expect(agency.agency_id.startsWith(agency.region)).toBe(true);
      const officers = world.officers[agency.agency_id]!;
      expect(officers.length).toBeGreaterThanOrEqual(5);
      for (const officer of officers) expect(officer).toMatch(new RegExp(`^${agency.agency_id}-\\d{3}$`));
    }
  });

  it('names every officer in Chinese, once, distinct within the agency, in the shape PUT /v1/officers accepts', () => {
    expect(world.officerRecords.map((o) => o.officer_id)).toEqual(world.agencies.flatMap((a) => world.officers[a.agency_id]!));
    for (const officer of world.officerRecords) {
      expect(Officer.safeParse(officer).error).toBeUndefined();
      expect(officer.name).toMatch(/^[\u4e00-\u9fff]{2,3}$/);
      expect(world.officers[officer.agency_id]).toContain(officer.officer_id);
    }
    for (const agency of world.agencies) {
      const names = world.officerRecords.filter((o) => o.agency_id === agency.agency_id).map((o) => o.name);
      expect(new Set(names).size).toBe(names.length);
    }
  });

  it('registers county companies under the county code, named after the county, its towns or the city', () => {
    const yunhe = world.enterprises.filter((c) => c.region === '331125');
    const haishu = world.enterprises.filter((c) => c.region === '330203');
    expect(yunhe).toHaveLength(600);
    expect(haishu).toHaveLength(600);
    expect(yunhe.every((c) => /^(云和县|丽水市|浙江)/.test(c.name))).toBe(true);
    expect(yunhe.some((c) => /^云和县(.+街道|.+镇|.+乡)/.test(c.name))).toBe(true);
    expect(haishu.every((c) => /^(宁波市海曙区|宁波市|浙江)/.test(c.name))).toBe(true);
  });

  it('produces companies and agencies the API accepts, with valid credit codes', () => {
    expect(world.enterprises).toHaveLength(3000);
    for (const agency of world.agencies) expect(Agency.safeParse(agency).success).toBe(true);
    const districts = new Set(world.regions.flatMap((r) => r.districts.map((d) => d.code)));
    for (const company of world.enterprises) {
      expect(Enterprise.safeParse(company).error).toBeUndefined();
      expect(creditCodeProblem(company.enterprise_id)).toBeNull();
      expect(company.enterprise_id.slice(0, 2)).toBe('91');
      expect(company.enterprise_id.slice(2, 8)).toBe(company.region);
      expect(districts.has(company.region)).toBe(true);
      expect(company.name).toMatch(/^[\u4e00-\u9fff]+公司$/);
    }
    expect(new Set(world.enterprises.map((c) => c.enterprise_id)).size).toBe(3000);
    expect(new Set(world.enterprises.map((c) => c.name)).size).toBeGreaterThan(2990);
  });

  it('mixes credit grades realistically, with a few white-listed (莱州 pilot) and a few long quiet periods', () => {
    const share = (grade: string) => world.enterprises.filter((c) => c.credit_grade === grade).length / 3000;
    expect(share('A')).toBeGreaterThan(0.12);
    expect(share('A')).toBeLessThan(0.18);
    expect(share('B')).toBeGreaterThan(0.41);
    expect(share('B')).toBeLessThan(0.49);
    expect(share('C')).toBeGreaterThan(0.26);
    expect(share('C')).toBeLessThan(0.34);
    expect(share('D')).toBeGreaterThan(0.07);
    expect(share('D')).toBeLessThan(0.13);
    const whitelisted = world.enterprises.filter((c) => c.whitelisted);
    expect(whitelisted.length).toBeGreaterThan(0);
    expect(whitelisted.length).toBeLessThan(150);
    expect(whitelisted.every((c) => c.region === '370683')).toBe(true);
    const quiet = world.enterprises.filter((c) => c.quiet_period);
    expect(quiet.length).toBeGreaterThan(0);
    expect(quiet.length).toBeLessThan(150);
    for (const company of quiet) {
      expect(company.region).toBe('331125');
      expect(company.credit_grade).toBe('B');
      expect(company.quiet_period!.days_of_month).toEqual([-15, -14, -13, -12, -11, -10, -9, -8, -7, -6, -5, -4, -3, -2, -1]);
    }
  });

  it('takes a subset of regions and a size, and names the regions it knows when asked for another', () => {
    const small = createWorld({ seed: 1, regions: ['350300'], enterprisesPerRegion: 50 });
    expect(small.enterprises).toHaveLength(50);
    expect(small.agencies.every((a) => a.region === '350300')).toBe(true);
    expect(small.enterprises.every((c) => c.region.startsWith('35'))).toBe(true);
    expect(() => createWorld({ seed: 1, regions: ['110000'] })).toThrow(/371400 德州.*331125 云和, 330203 海曙/);
  });
});

describe('generateEvents', () => {
  it('is reproducible from its seed, and fast', () => {
    expect(generateEvents(world, { seed: 7, from, to })).toEqual(events);
    expect(generateEvents(world, { seed: 8, from, to })).not.toEqual(events);
    expect(elapsed).toBeLessThan(2000);
  });

  it('emits only events the schema accepts, with unique ids from the prefix', () => {
    for (const e of events) expect(Event.safeParse(e).error).toBeUndefined();
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(events.every((e) => /^demo-\d+$/.test(e.id))).toBe(true);
    const custom = generateEvents(world, { seed: 7, from, to: new Date(from.getTime() + 2 * DAY), idPrefix: 'bench-a' });
    expect(custom.length).toBeGreaterThan(0);
    expect(custom.every((e) => e.id.startsWith('bench-a-'))).toBe(true);
  });

  it('sorts by occurred_at in +08:00 and keeps to the period, except plans, filings and notices made ahead of it', () => {
    expect(events.every((e) => e.occurred_at.endsWith('+08:00'))).toBe(true);
    for (let i = 1; i < events.length; i++) expect(time(events[i]!.occurred_at)).toBeGreaterThanOrEqual(time(events[i - 1]!.occurred_at));
    for (const e of events) {
      expect(time(e.occurred_at)).toBeLessThan(to.getTime());
      if (e.type === 'plan') expect(time(e.occurred_at) >= from.getTime() || e.window_end >= '2026-03-01').toBe(true);
      else if (e.type === 'filing' || e.type === 'notice') expect(time(e.occurred_at) >= from.getTime() || e.visit_date >= '2026-03-01').toBe(true);
      else expect(time(e.occurred_at)).toBeGreaterThanOrEqual(from.getTime());
    }
    expect(ofType(events, 'plan').some((p) => time(p.occurred_at) < from.getTime())).toBe(true);
  });

  it('refers only to companies, agencies, officers, plans and check-ins that exist', () => {
    const agencies = new Set(world.agencies.map((a) => a.agency_id));
    const plans = new Map(ofType(events, 'plan').map((p) => [p.id, p]));
    const checkins = new Set(ofType(events, 'checkin').map((c) => c.id));
    for (const e of events) {
      if (e.type !== 'complaint') expect(agencies.has(e.agency_id)).toBe(true);
      if (e.type === 'plan') {
        for (const id of e.enterprise_ids) expect(companyById.has(id)).toBe(true);
        for (const id of e.joint_agency_ids ?? []) expect(agencies.has(id)).toBe(true);
        continue;
      }
      expect(companyById.has(e.enterprise_id)).toBe(true);
      if (e.type === 'checkin' || e.type === 'inspection') {
        for (const officer of e.officer_ids) expect(world.officers[e.agency_id]).toContain(officer);
        if (e.plan_id) {
          const plan = plans.get(e.plan_id)!;
          expect(plan).toBeDefined();
          expect(plan.enterprise_ids).toContain(e.enterprise_id);
          expect([plan.agency_id, ...(plan.joint_agency_ids ?? [])]).toContain(e.agency_id);
          const day = (e.type === 'checkin' ? e.occurred_at : e.started_at).slice(0, 10);
          expect(day >= plan.window_start && day <= plan.window_end).toBe(true);
          expect(plan.status).not.toBe('cancelled');
        }
      }
      if (e.type === 'complaint' && e.checkin_id) expect(checkins.has(e.checkin_id)).toBe(true);
    }
  });

  it('files plans mostly a week or more ahead, some late, a few cancelled, some joint or off-site', () => {
    const plans = ofType(events, 'plan');
    // Entries made at the time of an urgent check and later versions that call a plan off are not filed ahead.
    const routine = plans.filter((p) => !p.urgent_reason && !p.plan_id);
    const ahead = routine.filter((p) => leadDays(p) >= 7).length;
    const late = routine.filter((p) => leadDays(p) >= 1 && leadDays(p) < 7).length;
    expect(ahead / routine.length).toBeGreaterThan(0.8);
    expect(late).toBeGreaterThan(0);
    expect(ahead + late).toBe(routine.length);
    const cancelled = routine.filter((p) => p.status === 'cancelled').length;
    expect(cancelled).toBeGreaterThan(0);
    expect(cancelled / routine.length).toBeLessThan(0.1);
    expect(routine.some((p) => (p.joint_agency_ids?.length ?? 0) > 0)).toBe(true);
    const offsite = routine.filter((p) => p.mode === 'offsite').length;
    expect(offsite).toBeGreaterThan(0);
    expect(offsite / routine.length).toBeLessThan(0.3);
    for (const plan of plans) {
      expect(plan.enterprise_ids.length).toBeGreaterThanOrEqual(1);
      expect(plan.enterprise_ids.length).toBeLessThanOrEqual(5);
      const days = (time(`${plan.window_end}T00:00:00+08:00`) - time(`${plan.window_start}T00:00:00+08:00`)) / DAY + 1;
      expect(days).toBeGreaterThanOrEqual(1);
      expect(days).toBeLessThanOrEqual(12);
    }
    // An urgent check's entry covers its own day: 云和 files it that day before going in; 烟台's green channel
    // enters it at the time, or (the breach) a day late.
    const onTheSpot = plans.filter((p) => p.urgent_reason);
    expect(new Set(onTheSpot.map((p) => p.region))).toEqual(new Set(['370600', '331125']));
    for (const plan of onTheSpot) {
      expect(plan.window_start).toBe(plan.window_end);
      expect(leadDays(plan)).toBeLessThanOrEqual(0);
      expect(leadDays(plan)).toBeGreaterThanOrEqual(plan.region === '331125' ? 0 : -1);
    }
  });

  it('calls some plans off after their first visits: a cancelled version of the plan, and no visit under it afterwards', () => {
    const plans = ofType(events, 'plan');
    const first = new Map(plans.map((p) => [p.id, p]));
    const calledOff = plans.filter((p) => p.plan_id && first.has(p.plan_id));
    expect(calledOff.length).toBeGreaterThan(0);
    let visitedBefore = 0;
    for (const version of calledOff) {
      const plan = first.get(version.plan_id!)!;
      expect(version).toMatchObject({ status: 'cancelled', agency_id: plan.agency_id, enterprise_ids: plan.enterprise_ids, window_start: plan.window_start });
      expect(plan.status).not.toBe('cancelled');
      const under = [...ofType(events, 'checkin'), ...ofType(events, 'inspection')].filter((e) => e.plan_id === plan.id);
      for (const e of under) expect(visitStart(e)).toBeLessThan(time(version.occurred_at));
      if (under.length > 0) visitedBefore++;
    }
    expect(visitedBefore).toBeGreaterThan(0);
  });

  it('visits in working hours, mostly on weekdays, at about visitsPerDay a working day', () => {
    const enters = ofType(events, 'checkin').filter((c) => c.action === 'enter');
    for (const e of enters) {
      expect(clock(e) >= '08:30').toBe(true);
      expect(clock(e) < '17:30').toBe(true);
    }
    const weekday = enters.filter((e) => isWeekday(e.occurred_at.slice(0, 10))).length;
    expect(weekday / enters.length).toBeGreaterThan(0.95);
    const visits = ofType(events, 'inspection').filter((i) => i.onsite).length;
    const workingDays = Array.from({ length: 30 }, (_, i) => new Date(from.getTime() + i * DAY + 8 * 3_600_000).toISOString().slice(0, 10)).filter(isWeekday).length;
    expect(visits / workingDays).toBeGreaterThan(20);
    expect(visits / workingDays).toBeLessThan(45);
  });

  it('has the officers scan in and out, seconds apart, 20 to 180 minutes on site (德州\'s injected 执法时长 aside), mostly by QR', () => {
    const scanned = visitsOf(events).filter((v) => v.enters.length > 0);
    // Only 德州 asks for a scan on leaving too; its injected visits without one are the only ones.
    const unexited = scanned.filter((v) => v.exits.length === 0);
    expect([...regionsOf(unexited)]).toEqual([DEZHOU]);
    expect(unexited.length / scanned.length).toBeLessThan(0.02);
    for (const visit of scanned.filter((v) => v.exits.length > 0)) {
      for (const enter of visit.enters) {
        const exit = visit.exits.find((x) => x.officer_ids[0] === enter.officer_ids[0])!;
        expect(exit.method).toBe(enter.method);
        const minutes = (time(exit.occurred_at) - time(enter.occurred_at)) / MINUTE;
        if (minutes >= 20 && minutes < 186) continue; // 180 plus the seconds between officers
        // abnormal-duration's visits: a few minutes, or most of a day, and only where 德州 judges 执法时长.
        expect(visit.region).toBe(DEZHOU);
        expect(minutes < 15 || minutes > 240, `${minutes} minutes`).toBe(true);
      }
    }
    const enters = ofType(events, 'checkin').filter((c) => c.action === 'enter');
    const together = enters.filter((c, i) => i > 0 && c.enterprise_id === enters[i - 1]!.enterprise_id
      && time(c.occurred_at) - time(enters[i - 1]!.occurred_at) <= 2 * MINUTE);
    expect(together.length / enters.length).toBeGreaterThan(0.3);
    const checkins = ofType(events, 'checkin');
    const qr = checkins.filter((c) => c.method === 'qr');
    expect(qr.length / checkins.length).toBeGreaterThan(0.9);
    expect(qr.length).toBeLessThan(checkins.length);
    expect(qr.every((c) => c.location !== undefined)).toBe(true);
  });

  it('files the inspection record hours to two days after the visit (莆田\'s injected late results aside), started when the first officer entered', () => {
    const enters = new Map<string, number>();
    for (const c of ofType(events, 'checkin')) {
      if (c.action === 'enter') enters.set(`${c.enterprise_id}|${c.agency_id}|${c.occurred_at}`, 1);
    }
    const onsite = ofType(events, 'inspection').filter((i) => i.onsite);
    const matched = onsite.filter((i) => enters.has(`${i.enterprise_id}|${i.agency_id}|${i.started_at}`));
    expect(matched.length / onsite.length).toBeGreaterThan(0.9);
    for (const record of ofType(events, 'inspection')) {
      const delay = time(record.occurred_at) - time(record.ended_at!);
      expect(delay).toBeGreaterThanOrEqual(10 * MINUTE);
      // result-overdue's records: 6 to 9 working days after the visit, only where 莆田 asks for 5.
      if (delay > 2 * DAY) {
        expect(record.region).toBe(PUTIAN);
        expect(workingDaysBetween(record.started_at.slice(0, 10), record.occurred_at.slice(0, 10))).toBeGreaterThan(5);
      }
      expect(record.outcome).toBeDefined();
      expect(record.plan_id !== undefined || record.onsite).toBe(true);
    }
    // Research, guidance and leaders' visits leave scans and no inspection record.
    const other = visitsOf(events).filter((v) => v.purpose !== 'inspection');
    expect(new Set(other.map((v) => v.purpose))).toEqual(new Set(['research', 'guidance', 'leader_visit']));
    expect(other.every((v) => v.records.length === 0 && v.enters.length > 0)).toBe(true);
    expect(only(other, [YUNHE, HAISHU])).toEqual([]);
  });
});

// Each region's policy (rules/regions.yaml) names breaches and lawful special cases; the demo shows them there.
// Some thirty situations share the injected violations: at three times the default rate each shows within the month.
describe('generateEvents: what each region\'s policy names, where it holds', () => {
  const injected = generateEvents(world, { seed: 7, from, to, violationRate: 0.15 });
  const visits = visitsOf(injected);
  const inspections = visits.filter((v) => v.purpose === 'inspection');
  const plans = new Map(ofType(injected, 'plan').map((p) => [p.id, p]));
  const filings = ofType(injected, 'filing');

  it('has checks without any plan only where a plan is required, 海曙 and 莆田 among them', () => {
    const unplanned = inspections.filter((v) => v.enters.length > 0 && !planOf(v, plans) && !isUrgent(v));
    expect(only(unplanned, PLAN_REGIONS)).toEqual([]);
    expect(regionsOf(unplanned)).toContain(HAISHU);
    expect(regionsOf(unplanned)).toContain(PUTIAN);
  });

  it('has on-site records nobody scanned for, and records naming an officer who did not scan, where every officer must', () => {
    const unscanned = inspections.filter((v) => v.records.length > 0 && v.enters.length === 0);
    expect(unscanned.length).toBeGreaterThan(0);
    expect(only(unscanned, SCAN_REGIONS)).toEqual([]);
    const partly = inspections.filter((v) => v.enters.length > 0
      && v.records.some((r) => r.officer_ids.some((o) => !v.enters.some((c) => c.officer_ids[0] === o))));
    expect(only(partly, SCAN_REGIONS)).toEqual([]);
    expect(regionsOf(partly)).toContain(YUNHE);
    // Several officers of one agency on one visit is the rule (两人执法), not the exception.
    expect(inspections.filter((v) => v.enters.length >= 2).length / inspections.length).toBeGreaterThan(0.5);
  });

  it('has 德州 companies visited by one agency 3 times in 12 days (禹城) and by 4 agencies in turn within 15 days', () => {
    const byAgency = [...visitDays(injected, true)].filter(([, days]) => crowded(days, 3, 12));
    expect(byAgency.some(([key]) => key.startsWith(DEZHOU))).toBe(true);
    const inTurn = [...visitDays(injected, false)].filter(([company, days]) => crowded(days, 4, 15)
      && new Set(visits.filter((v) => v.company === company).map((v) => v.agency)).size >= 4);
    expect(inTurn.some(([company]) => companyById.get(company)!.region.startsWith('3714'))).toBe(true);
  });

  it('has 烟台 urgent checks entered through the green channel in time, too late or never, and joint plans carried out together', () => {
    const urgent = inspections.filter(isUrgent);
    expect(only(urgent, [YANTAI, YUNHE])).toEqual([]);
    const entered = (v: DayVisit) => [...plans.values()].find((p) => p.urgent_reason && p.agency_id === v.agency
      && p.enterprise_ids.includes(v.company) && p.window_start === v.date);
    const delays = urgent.filter((v) => v.region === YANTAI).map((v) => {
      const entry = entered(v);
      return entry ? (time(entry.occurred_at) - firstEntry(v)) / MINUTE : null;
    });
    expect(delays.some((d) => d !== null && d > 0 && d <= 30)).toBe(true);
    expect(delays.some((d) => d === null || d > 30)).toBe(true);
    // Officers of the agencies of one joint plan arrive together, each scanning under the plan.
    for (const region of [YANTAI, HAISHU]) {
      const joint = inspections.filter((v) => v.region === region && planOf(v, plans)?.joint_agency_ids?.length
        && visits.some((w) => w.agency !== v.agency && w.company === v.company && w.date === v.date && planOf(w, plans) === planOf(v, plans)));
      expect(joint.length, region).toBeGreaterThan(0);
    }
  });

  it('has 海曙 checks of deregistered companies, and joint plans whose partner scans in hours after the lead (未同時上門)', () => {
    const gone = inspections.filter((v) => companyById.get(v.company)!.status === 'deregistered');
    expect(gone.length).toBeGreaterThan(0);
    expect(only(gone, [HAISHU])).toEqual([]);
    for (const v of gone) expect(v.date >= companyById.get(v.company)!.deregistered_on!).toBe(true);
    const apart = inspections.filter((v) => v.region === HAISHU && planOf(v, plans)?.joint_agency_ids?.length
      && visits.some((w) => w.agency !== v.agency && w.company === v.company && planOf(w, plans) === planOf(v, plans)
        && firstEntry(w) - firstEntry(v) > 60 * MINUTE));
    expect(apart.length).toBeGreaterThan(0);
  });

  it('has 莱州 white-listed companies visited under plans the justice bureau reviewed, and once under one it did not', () => {
    const listed = inspections.filter((v) => companyById.get(v.company)!.whitelisted && planOf(v, plans));
    const reviewed = listed.filter((v) => planOf(v, plans)!.reviewed_by === 'justice_bureau');
    expect(reviewed.length).toBeGreaterThan(0);
    expect(listed.length - reviewed.length).toBeGreaterThan(0);
  });

  it('has 云和 checks in the quiet period: special cases, approved and filed in time, and not filed', () => {
    const quiet = inspections.filter((v) => v.region === YUNHE && isQuietDay(v));
    const special = quiet.filter(isUrgent);
    const filed = quiet.filter((v) => filingsFor(v, filings, 'quiet_period_check').some((f) => f.approved_by && workingDaysBetween(v.date, f.occurred_at.slice(0, 10)) <= 3));
    expect(special.length).toBeGreaterThan(0);
    expect(filed.length).toBeGreaterThan(0);
    expect(quiet.length - special.length - filed.length).toBeGreaterThan(0);
    // 云和's special cases file their plan with the county before they go in (查前备案).
    for (const visit of special) expect(time(planOf(visit, plans)!.occurred_at)).toBeLessThan(firstEntry(visit));
    expect(only(inspections.filter(isQuietDay), [YUNHE])).toEqual([]);
  });

  it('has 云和 research visits in the quiet period filed three working days ahead, and some not', () => {
    const research = visits.filter((v) => v.purpose === 'research' && isQuietDay(v));
    const filedAhead = research.filter((v) => filingsFor(v, filings, 'research').some((f) => workingDaysBetween(f.occurred_at.slice(0, 10), v.date) >= 3));
    expect(filedAhead.length).toBeGreaterThan(0);
    expect(research.length - filedAhead.length).toBeGreaterThan(0);
    expect(only(filings, [YUNHE])).toEqual([]);
  });

  it('has 云和 leaders\' visits filed three working days ahead, and some filed late or not at all', () => {
    const leaders = visits.filter((v) => v.purpose === 'leader_visit');
    const ahead = (v: DayVisit) => filingsFor(v, filings, 'leader_visit').some((f) => workingDaysBetween(f.occurred_at.slice(0, 10), v.date) >= 3);
    expect(leaders.filter(ahead).length).toBeGreaterThan(0);
    expect(leaders.filter((v) => !ahead(v)).length).toBeGreaterThan(0);
    for (const visit of leaders) expect(filingsFor(visit, filings, 'leader_visit').length).toBeLessThanOrEqual(1);
    expect(only(leaders, [YUNHE])).toEqual([]);
  });

  it('has 云和 inspections noticed to the company (预告) 5 working days ahead with their officers and matters, and some not', () => {
    const notices = ofType(injected, 'notice');
    expect(only(notices, [YUNHE])).toEqual([]);
    const noticed = (v: DayVisit) => notices.find((n) => n.agency_id === v.agency && n.enterprise_id === v.company && n.visit_date === v.date);
    const yunhe = inspections.filter((v) => v.region === YUNHE && !isUrgent(v));
    const inTime = yunhe.filter((v) => {
      const notice = noticed(v);
      return notice && workingDaysBetween(notice.occurred_at.slice(0, 10), v.date) >= 5
        && v.enters.every((c) => notice.officer_ids.includes(c.officer_ids[0]!)) && v.records.every((r) => r.matters?.every((m) => notice.matters.includes(m)));
    });
    expect(inTime.length / yunhe.length).toBeGreaterThan(0.7);
    expect(yunhe.some((v) => !noticed(v))).toBe(true);
    expect(yunhe.some((v) => { const n = noticed(v); return n && workingDaysBetween(n.occurred_at.slice(0, 10), v.date) < 5; })).toBe(true);
  });

  it('has 莆田 penalties fed back with remedies and credit repair, and some fed back late or without them', () => {
    const records = ofType(injected, 'inspection');
    const penalties = records.filter((r) => r.outcome === 'penalty');
    expect(penalties.filter((r) => r.remedies && r.credit_repair).length).toBeGreaterThan(0);
    const bare = penalties.filter((r) => !r.remedies);
    expect(only(bare, [PUTIAN])).toEqual([]);
    const late = records.filter((r) => workingDaysBetween(r.started_at.slice(0, 10), r.occurred_at.slice(0, 10)) > 5);
    expect(only(late, [PUTIAN])).toEqual([]);
    expect(bare.length + late.length).toBeGreaterThan(0);
  });

  it('has 德州 and 烟台 companies rating about half their visits, mostly well, some 59 or less; nobody elsewhere', () => {
    const ratings = ofType(injected, 'evaluation');
    expect([...regionsOf(ratings)].sort()).toEqual([YANTAI, DEZHOU].sort());
    const rated = inspections.filter((v) => [DEZHOU, YANTAI].includes(v.region) && ratings.some((e) => e.agency_id === v.agency && e.enterprise_id === v.company));
    expect(rated.length / inspections.filter((v) => [DEZHOU, YANTAI].includes(v.region)).length).toBeGreaterThan(0.3);
    expect(ratings.filter((e) => e.score >= 60).length / ratings.length).toBeGreaterThan(0.9);
    expect(ratings.some((e) => e.score <= 59)).toBe(true);
    expect(new Set(ratings.map((e) => e.channel))).toEqual(new Set(['sms', 'app']));
  });

  it('has 云和 off-site checks that found nothing followed by the same agency on site for the same matter', () => {
    const records = ofType(injected, 'inspection');
    const clean = records.filter((r) => !r.onsite && r.outcome === 'no_issue' && r.region === YUNHE);
    const after = records.filter((r) => r.onsite && clean.some((c) => c.agency_id === r.agency_id && c.enterprise_id === r.enterprise_id
      && c.occurred_at < r.started_at && c.matters!.some((m) => r.matters!.includes(m))));
    expect(after.length).toBeGreaterThan(0);
  });

  it('has 云和 agencies over a company\'s yearly cap for its grade, and visits under national rules', () => {
    expect(overGradeCap(inspections).length).toBeGreaterThan(0);
    const national = inspections.filter(hasNationalBasis);
    expect([...regionsOf(national)]).toEqual([YUNHE]);
    expect(national.some((v) => companyById.get(v.company)!.credit_grade === 'A')).toBe(true);
  });

  it('has complaints in Chinese, some citing the check-in they are about', () => {
    const complaints = ofType(injected, 'complaint');
    expect(complaints.length).toBeGreaterThan(0);
    expect(complaints.every((c) => /[\u4e00-\u9fff]/.test(c.text))).toBe(true);
    expect(complaints.some((c) => c.checkin_id)).toBe(true);
  });
});

describe('generateEvents with violationRate 0', () => {
  const visits = visitsOf(clean);
  const inspections = visits.filter((v) => v.purpose === 'inspection');
  const plans = new Map(ofType(clean, 'plan').map((p) => [p.id, p]));
  const filings = ofType(clean, 'filing');

  it('checks under a plan, or urgent with an entry made in time (烟台 within 30 minutes, 云和 before going in)', () => {
    expect(inspections.length).toBeGreaterThan(400);
    expect(ofType(clean, 'complaint')).toHaveLength(0);
    for (const visit of inspections.filter((v) => v.enters.length > 0)) {
      const plan = planOf(visit, plans);
      if (!isUrgent(visit)) {
        expect(plan, `${visit.agency} ${visit.company} ${visit.date}`).toBeDefined();
        continue;
      }
      const entry = [...plans.values()].find((p) => p.urgent_reason && p.agency_id === visit.agency && p.enterprise_ids.includes(visit.company) && p.window_start === visit.date)!;
      const delay = (time(entry.occurred_at) - firstEntry(visit)) / MINUTE;
      expect(delay).toBeLessThanOrEqual(visit.region === YANTAI ? 30 : 0);
    }
  });

  it('leaves deregistered companies alone', () => {
    expect(world.enterprises.some((c) => c.status === 'deregistered')).toBe(true);
    expect(visits.filter((v) => companyById.get(v.company)!.status === 'deregistered')).toEqual([]);
  });

  it('has every officer named on a record scan in and out, and nobody crowd a company', () => {
    for (const visit of inspections) {
      expect(visit.enters.length).toBeGreaterThan(0);
      expect(visit.exits.length).toBe(visit.enters.length);
      for (const record of visit.records) for (const officer of record.officer_ids) expect(visit.enters.map((c) => c.officer_ids[0])).toContain(officer);
    }
    expect([...visitDays(clean, false).values()].some((days) => crowded(days, 4, 15))).toBe(false);
    expect([...visitDays(clean, true).values()].some((days) => crowded(days, 3, 15))).toBe(false);
  });

  it('keeps 云和\'s quiet period (special cases, approved and filed checks, research filed ahead) and its caps', () => {
    for (const visit of visits.filter(isQuietDay)) {
      expect(visit.region).toBe(YUNHE);
      if (visit.purpose === 'research') {
        expect(filingsFor(visit, filings, 'research').some((f) => workingDaysBetween(f.occurred_at.slice(0, 10), visit.date) >= 3)).toBe(true);
      } else if (visit.purpose === 'inspection' && !isUrgent(visit)) {
        expect(filingsFor(visit, filings, 'quiet_period_check').some((f) => f.approved_by && workingDaysBetween(visit.date, f.occurred_at.slice(0, 10)) <= 3)).toBe(true);
      }
    }
    expect(overGradeCap(inspections)).toEqual([]);
  });

  it('notices 云和\'s planned inspections, feeds penalties back with remedies, and rates no visit 59 or less', () => {
    const notices = ofType(clean, 'notice');
    const yunhe = inspections.filter((v) => v.region === YUNHE && !isUrgent(v));
    expect(yunhe.length).toBeGreaterThan(0);
    for (const v of yunhe) expect(notices.some((n) => n.agency_id === v.agency && n.enterprise_id === v.company && n.visit_date === v.date)).toBe(true);
    expect(ofType(clean, 'inspection').filter((r) => r.outcome === 'penalty').every((r) => r.remedies && r.credit_repair)).toBe(true);
    expect(ofType(clean, 'evaluation').every((e) => e.score >= 60)).toBe(true);
  });

  it('visits a white-listed company only under a plan the justice bureau reviewed', () => {
    const listed = inspections.filter((v) => companyById.get(v.company)!.whitelisted);
    expect(listed.length).toBeGreaterThan(0);
    for (const visit of listed) expect(planOf(visit, plans)?.reviewed_by).toBe('justice_bureau');
  });

  it('rejects a period that ends before it starts', () => {
    expect(() => generateEvents(world, { seed: 1, from: to, to: from })).toThrow(RangeError);
  });
});

describe('liveEvents', () => {
  const now = new Date('2026-03-10T22:00:00+08:00');
  const open = (options: { seed: number; lateShare?: number } = { seed: 3 }) =>
    liveEvents(world, { seed: options.seed, now: () => now, ...(options.lateShare === undefined ? {} : { lateShare: options.lateShare }) });
  const take = async (count: number, options?: { seed: number; lateShare?: number }) => {
    const events: EventInput[] = [];
    for await (const event of open(options)) {
      events.push(event);
      if (events.length === count) break;
    }
    return events;
  };
  let stream: EventInput[] = [];
  let afterStart: EventInput[] = [];
  beforeAll(async () => {
    stream = await take(15_000);
    afterStart = stream.filter((e) => time(e.occurred_at) >= now.getTime());
  });

  it('is reproducible for a seed and a clock', async () => {
    expect(await take(15_000)).toEqual(stream);
    expect(await take(200, { seed: 4 })).not.toEqual(stream.slice(0, 200));
  });

  // `qingjian start --demo` runs it on the service's own thread: its warm-up of weeks of dense traffic took over
  // five seconds there in one go, long enough for Node's keep-alive timer to reset clients' next requests.
  it('lets the event loop turn between simulated days, in the warm-up as much as after it', async () => {
    let turns = 0;
    const ticker = setInterval(() => turns++, 1);
    try {
      await open().next();
      expect(turns).toBeGreaterThan(WARMUP_DAYS / 2);
    } finally {
      clearInterval(ticker);
    }
  });

  it('emits valid events with unique ids', () => {
    for (const e of stream) expect(Event.safeParse(e).error).toBeUndefined();
    expect(new Set(stream.map((e) => e.id)).size).toBe(stream.length);
    expect(stream.every((e) => e.id.startsWith('live-'))).toBe(true);
  });

  it('opens with the plans, filings and notices already on file, then runs from now on around the clock', () => {
    const opening = stream.findIndex((e) => time(e.occurred_at) >= now.getTime());
    expect(opening).toBeGreaterThan(0);
    const onFile = (e: EventInput) => (e.type === 'plan' && e.window_end >= '2026-03-10')
      || ((e.type === 'filing' || e.type === 'notice') && e.visit_date >= '2026-03-10');
    expect(stream.slice(0, opening).every(onFile)).toBe(true);
    expect(stream.slice(opening).every((e) => time(e.occurred_at) >= now.getTime())).toBe(true);
    expect(afterStart.length).toBeGreaterThan(1000);
    const nightVisits = ofType(afterStart, 'checkin').filter((c) => clock(c) < '06:00');
    expect(nightVisits.length).toBeGreaterThan(0);
  });

  it('delivers about lateShare of the events late and out of order, minutes to hours behind', async () => {
    let latest = 0;
    const lags: number[] = [];
    for (const e of afterStart) {
      const at = time(e.occurred_at);
      if (at < latest) lags.push(latest - at);
      latest = Math.max(latest, at);
    }
    expect(lags.length / afterStart.length).toBeGreaterThan(0.04);
    expect(lags.length / afterStart.length).toBeLessThan(0.15);
    expect(Math.max(...lags)).toBeGreaterThan(60 * MINUTE);
    expect(Math.max(...lags)).toBeLessThan(8 * 60 * MINUTE);
    const inOrder = (await take(5_000, { seed: 3, lateShare: 0 })).filter((e) => time(e.occurred_at) >= now.getTime());
    for (let i = 1; i < inOrder.length; i++) expect(time(inOrder[i]!.occurred_at)).toBeGreaterThanOrEqual(time(inOrder[i - 1]!.occurred_at));
  });
});
