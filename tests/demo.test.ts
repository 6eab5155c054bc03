import { describe, it, expect } from 'vitest';
import { createRandom, createWorld, generateEvents, liveEvents, type World } from '../src/demo/index.js';
import { Agency, Enterprise, Event, type EventInput } from '../src/ingest/schema.js';
import { creditCodeProblem } from '../src/ingest/credit-code.js';

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

function isQuietFor(company: Enterprise, date: string): boolean {
  const { fromStart, fromEnd } = monthDay(date);
  if (company.quiet_period) return company.quiet_period.days_of_month.some((d) => d === fromStart || d === fromEnd);
  return fromStart >= 21 || fromEnd >= -10;
}

/** Distinct visit days of each (agency, company) pair, from enter check-ins. */
function visitDays(list: EventInput[]): Map<string, string[]> {
  const days = new Map<string, Set<string>>();
  for (const e of ofType(list, 'checkin')) {
    if (e.action !== 'enter') continue;
    const key = `${e.agency_id}|${e.enterprise_id}`;
    if (!days.has(key)) days.set(key, new Set());
    days.get(key)!.add(e.occurred_at.slice(0, 10));
  }
  return new Map([...days].map(([key, set]) => [key, [...set].sort()]));
}

const hasFourIn15Days = (days: string[]) =>
  days.some((d, i) => i + 3 < days.length && time(`${days[i + 3]}T00:00:00+08:00`) - time(`${d}T00:00:00+08:00`) < 15 * DAY);

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

  it('sorts by occurred_at in +08:00 and keeps to the period, except plans filed ahead of it', () => {
    expect(events.every((e) => e.occurred_at.endsWith('+08:00'))).toBe(true);
    for (let i = 1; i < events.length; i++) expect(time(events[i]!.occurred_at)).toBeGreaterThanOrEqual(time(events[i - 1]!.occurred_at));
    for (const e of events) {
      expect(time(e.occurred_at)).toBeLessThan(to.getTime());
      if (e.type === 'plan') expect(time(e.occurred_at) >= from.getTime() || e.window_end >= '2026-03-01').toBe(true);
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
    const lead = (p: Of<'plan'>) => (time(`${p.window_start}T00:00:00+08:00`) - time(`${p.occurred_at.slice(0, 10)}T00:00:00+08:00`)) / DAY;
    const ahead = plans.filter((p) => lead(p) >= 7).length;
    const late = plans.filter((p) => lead(p) >= 1 && lead(p) < 7).length;
    expect(ahead / plans.length).toBeGreaterThan(0.8);
    expect(late).toBeGreaterThan(0);
    expect(ahead + late).toBe(plans.length);
    const cancelled = plans.filter((p) => p.status === 'cancelled').length;
    expect(cancelled).toBeGreaterThan(0);
    expect(cancelled / plans.length).toBeLessThan(0.1);
    expect(plans.some((p) => (p.joint_agency_ids?.length ?? 0) > 0)).toBe(true);
    const offsite = plans.filter((p) => p.mode === 'offsite').length;
    expect(offsite).toBeGreaterThan(0);
    expect(offsite / plans.length).toBeLessThan(0.3);
    for (const plan of plans) {
      expect(plan.enterprise_ids.length).toBeGreaterThanOrEqual(1);
      expect(plan.enterprise_ids.length).toBeLessThanOrEqual(5);
      const days = (time(`${plan.window_end}T00:00:00+08:00`) - time(`${plan.window_start}T00:00:00+08:00`)) / DAY + 1;
      expect(days).toBeGreaterThanOrEqual(1);
      expect(days).toBeLessThanOrEqual(10);
    }
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

  it('has every officer scan in and out, seconds apart, 20 to 180 minutes on site, mostly by QR', () => {
    const checkins = ofType(events, 'checkin');
    const byOfficer = new Map<string, Of<'checkin'>[]>();
    for (const c of checkins) {
      const key = `${c.enterprise_id}|${c.agency_id}|${c.officer_ids[0]}`;
      byOfficer.set(key, [...(byOfficer.get(key) ?? []), c]);
    }
    for (const scans of byOfficer.values()) {
      for (let i = 0; i < scans.length; i += 2) {
        const [enter, exit] = [scans[i]!, scans[i + 1]];
        expect(enter.action).toBe('enter');
        expect(exit?.action).toBe('exit');
        const minutes = (time(exit!.occurred_at) - time(enter.occurred_at)) / MINUTE;
        expect(minutes).toBeGreaterThanOrEqual(20);
        expect(minutes).toBeLessThan(186); // 180 plus the seconds between officers
      }
    }
    const enters = checkins.filter((c) => c.action === 'enter');
    const together = enters.filter((c, i) => i > 0 && c.enterprise_id === enters[i - 1]!.enterprise_id
      && time(c.occurred_at) - time(enters[i - 1]!.occurred_at) <= 2 * MINUTE);
    expect(together.length / enters.length).toBeGreaterThan(0.3);
    const qr = checkins.filter((c) => c.method === 'qr');
    expect(qr.length / checkins.length).toBeGreaterThan(0.8);
    expect(qr.length).toBeLessThan(checkins.length);
    expect(qr.every((c) => c.location !== undefined)).toBe(true);
  });

  it('files the inspection record hours to two days after the visit, started when the first officer entered', () => {
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
      expect(delay).toBeLessThanOrEqual(2 * DAY);
      expect(record.outcome).toBeDefined();
      expect(record.plan_id !== undefined || record.onsite).toBe(true);
    }
  });

  it('injects each kind of violation when violationRate > 0', () => {
    const checkins = ofType(events, 'checkin').filter((c) => c.action === 'enter');
    const urgent = checkins.filter((c) => c.urgent_reason);
    expect(urgent.length).toBeGreaterThan(0);
    expect(urgent.every((c) => c.plan_id === undefined)).toBe(true);
    expect(checkins.some((c) => !c.plan_id && !c.urgent_reason)).toBe(true);
    const scanned = new Set(checkins.map((c) => `${c.enterprise_id}|${c.agency_id}|${c.occurred_at.slice(0, 10)}`));
    const unscanned = ofType(events, 'inspection').filter((i) => i.onsite && !scanned.has(`${i.enterprise_id}|${i.agency_id}|${i.started_at.slice(0, 10)}`));
    expect(unscanned.length).toBeGreaterThan(0);
    expect(checkins.some((c) => monthDay(c.occurred_at.slice(0, 10)).fromEnd >= -10)).toBe(true);
    expect([...visitDays(events).values()].some(hasFourIn15Days)).toBe(true);
    const complaints = ofType(events, 'complaint');
    expect(complaints.length).toBeGreaterThan(0);
    expect(complaints.every((c) => /[\u4e00-\u9fff]/.test(c.text))).toBe(true);
    expect(complaints.some((c) => c.checkin_id)).toBe(true);
  });

  it('keeps the rules when violationRate is 0', () => {
    const checkins = ofType(clean, 'checkin');
    expect(checkins.length).toBeGreaterThan(1000);
    expect(checkins.every((c) => c.plan_id && !c.urgent_reason)).toBe(true);
    expect(ofType(clean, 'complaint')).toHaveLength(0);
    const plans = new Map(ofType(clean, 'plan').map((p) => [p.id, p]));
    let whitelistedVisits = 0;
    for (const c of checkins) {
      const company = companyById.get(c.enterprise_id)!;
      // A white-listed company is visited only under a plan the justice bureau reviewed.
      if (company.whitelisted) {
        whitelistedVisits += 1;
        expect(plans.get(c.plan_id!)?.reviewed_by).toBe('justice_bureau');
      }
      expect(company.credit_grade).not.toBe('A');
      expect(isQuietFor(company, c.occurred_at.slice(0, 10))).toBe(false);
    }
    const scanned = new Set(checkins.map((c) => `${c.enterprise_id}|${c.agency_id}|${c.occurred_at}`));
    for (const record of ofType(clean, 'inspection')) {
      if (record.onsite) expect(scanned.has(`${record.enterprise_id}|${record.agency_id}|${record.started_at}`)).toBe(true);
    }
    expect([...visitDays(clean).values()].some(hasFourIn15Days)).toBe(false);
    expect(whitelistedVisits).toBeGreaterThan(0);
  });

  it('rejects a period that ends before it starts', () => {
    expect(() => generateEvents(world, { seed: 1, from: to, to: from })).toThrow(RangeError);
  });
});

describe('liveEvents', () => {
  const now = new Date('2026-03-10T22:00:00+08:00');
  const take = (count: number, options: { seed: number; lateShare?: number; world?: World } = { seed: 3 }) => {
    const stream = liveEvents(options.world ?? world, { seed: options.seed, now: () => now, ...(options.lateShare === undefined ? {} : { lateShare: options.lateShare }) });
    return Array.from({ length: count }, () => stream.next().value);
  };
  const stream = take(15_000);
  const afterStart = stream.filter((e) => time(e.occurred_at) >= now.getTime());

  it('is reproducible for a seed and a clock', () => {
    expect(take(15_000)).toEqual(stream);
    expect(take(200, { seed: 4 })).not.toEqual(stream.slice(0, 200));
  });

  it('emits valid events with unique ids', () => {
    for (const e of stream) expect(Event.safeParse(e).error).toBeUndefined();
    expect(new Set(stream.map((e) => e.id)).size).toBe(stream.length);
    expect(stream.every((e) => e.id.startsWith('live-'))).toBe(true);
  });

  it('opens with the plans already on file, then runs from now on around the clock', () => {
    const opening = stream.findIndex((e) => time(e.occurred_at) >= now.getTime());
    expect(opening).toBeGreaterThan(0);
    expect(stream.slice(0, opening).every((e) => e.type === 'plan' && e.window_end >= '2026-03-10')).toBe(true);
    expect(stream.slice(opening).every((e) => time(e.occurred_at) >= now.getTime())).toBe(true);
    expect(afterStart.length).toBeGreaterThan(1000);
    const nightVisits = ofType(afterStart, 'checkin').filter((c) => clock(c) < '06:00');
    expect(nightVisits.length).toBeGreaterThan(0);
  });

  it('delivers about lateShare of the events late and out of order, minutes to hours behind', () => {
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
    const inOrder = take(5_000, { seed: 3, lateShare: 0 }).filter((e) => time(e.occurred_at) >= now.getTime());
    for (let i = 1; i < inOrder.length; i++) expect(time(inOrder[i]!.occurred_at)).toBeGreaterThanOrEqual(time(inOrder[i - 1]!.occurred_at));
  });
});
