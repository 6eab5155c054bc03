/**
 * The traffic of the feed benchmark (bench/feed.ts), deterministic from a few
 * numbers so the benchmark (which loads the reference data and the plans) and
 * the load process (feed-load.ts, which posts the events) build the same world
 * without shipping it between processes.
 *
 * Every request holds whole units, so a visit's events are stored and
 * evaluated together:
 * - trigger: one on-site QR check-in at a fresh company (its own reference
 *   data, no plan on file) in a district where the policy map
 *   (rules/regions.yaml) puts no-plan in force: raises exactly one `no-plan`
 *   alert at once (the day is long past, so the rule's wait is over);
 * - visit: enter check-in, inspection record, exit check-in at a grade C/D
 *   company of the demo world by an agency whose plan (filed 10 days ahead)
 *   covers the company and the day: raises nothing under any region's rules
 *   (≤ 3 visits per company, one per agency, hours apart, each scanned in and
 *   out by the officers on its record; outside every quiet period);
 * - filler (only when the batch size needs it): one exit check-in of such a visit.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { creditCodeCheckChar } from '../src/ingest/credit-code.js';
import type { Agency, Enterprise, EventInput } from '../src/ingest/schema.js';
import { agencyKindsOf, type DemoRegion } from '../src/demo/catalogue.js';
import { createWorld, type World } from '../src/demo/index.js';
import { POLICY_MAP_FILE, policyMap, PolicyMapFile } from '../src/rules/policy-map.js';

export interface TrafficSpec {
  seed: number;
  enterprisesPerRegion: number;
  /** Events per request and how many of them are triggers. */
  batch: number;
  triggersPerBatch: number;
  /** Run prefix of the event ids. */
  runId: string;
}

export interface Composition {
  triggers: number;
  visits: number;
  fillers: number;
}

export function composition(spec: TrafficSpec): Composition {
  const rest = spec.batch - spec.triggersPerBatch;
  if (!(spec.triggersPerBatch >= 1 && rest >= 3)) throw new RangeError(`a request of ${spec.batch} events needs at least one trigger and one visit (3 events)`);
  return { triggers: spec.triggersPerBatch, visits: Math.floor(rest / 3), fillers: rest % 3 };
}

const HOUR = 3600_000;
const DAY = 24 * HOUR;
/** Visits to one company at most (frequent-visits raises at 4 in 15 days), one per agency kind. */
export const MAX_ROUNDS = 3;
const FRESH_SERIAL_BASE = 700_000_000;
/** Companies named by one plan (the demo simulation files plans of 1 to 5). */
const PLAN_COMPANIES = 5;

const shanghaiDate = (ms: number) => new Date(ms + 8 * HOUR).toISOString().slice(0, 10);
const shanghai = (ms: number) => `${new Date(ms + 8 * HOUR).toISOString().slice(0, 19)}+08:00`;

/** The world's regions with their districts where no-plan is in force (rules/regions.yaml): where triggers go. */
function noPlanRegions(world: World): Array<{ region: DemoRegion; districts: string[] }> {
  const file = join(import.meta.dirname, '..', 'rules', POLICY_MAP_FILE);
  const map = policyMap(PolicyMapFile.parse(parse(readFileSync(file, 'utf8'))));
  const out = world.regions
    .map((region) => ({ region, districts: [...new Set(region.districts.map((d) => d.code))].filter((d) => map.forRegion(d).rules.has('no-plan')) }))
    .filter((r) => r.districts.length > 0);
  if (out.length === 0) throw new Error(`no region of the world has no-plan in force (${file}): the triggers would raise nothing`);
  return out;
}

/**
 * The day every event happens on: the 12th of this month in Shanghai (or of the
 * previous month before the 13th). Always in the past, and outside every quiet
 * period (下旬 from the 21st, or from the 16th for grade B).
 */
export function eventDay(now = Date.now()): number {
  const today = shanghaiDate(now);
  let [y, m] = today.split('-').map(Number) as [number, number];
  if (Number(today.slice(8, 10)) <= 12) {
    m -= 1;
    if (m === 0) (m = 12), (y -= 1);
  }
  return Date.parse(`${y}-${String(m).padStart(2, '0')}-12T00:00:00+08:00`);
}

export interface Traffic {
  spec: TrafficSpec;
  world: World;
  day: number;
  /** Grade C/D companies of the world (not white-listed, no long quiet period), in visit order. */
  eligible: Enterprise[];
  freshCompany(i: number): Enterprise;
  /** Agency of fresh company i's trigger. */
  freshAgency(i: number): string;
  triggerEvent(i: number): EventInput;
  visitEvents(k: number): EventInput[];
  fillerEvent(k: number, tag: string): EventInput;
  /** The plans that cover visits [0, visits). */
  plans(visits: number): EventInput[];
  /** The body of request r (units numbered from the run's start) and the fresh companies it triggers. */
  request(r: number): { events: EventInput[]; triggers: string[] };
}

export function createTraffic(spec: TrafficSpec, now = Date.now()): Traffic {
  const world = createWorld({ seed: spec.seed, enterprisesPerRegion: spec.enterprisesPerRegion });
  const day = eventDay(now);
  const known = new Set(world.enterprises.map((e) => e.enterprise_id));
  const eligible = world.enterprises.filter((e) => (e.credit_grade === 'C' || e.credit_grade === 'D') && !e.whitelisted && !e.quiet_period);
  const agencies = new Map<string, Agency>(world.agencies.map((a) => [a.agency_id, a]));
  /** The world region (a city, or a county such as 云和) a district or town belongs to. */
  const regionOf = (district: string) => world.regions.find((r) => r.districts.some((d) => d.code === district))!;
  /** The n-th kind of agency that inspects in a company's region (market regulation, emergency, ecology, …), and its id. */
  const kindOf = (district: string, n: number) => {
    const kinds = agencyKindsOf(regionOf(district));
    return kinds[n % kinds.length]!;
  };
  const agencyOf = (district: string, n: number) => `${regionOf(district).code}-${kindOf(district, n).code}`;
  const triggerRegions = noPlanRegions(world);
  const officers = (agency: string, n: number) => {
    const all = world.officers[agency]!;
    return [all[n % all.length]!, all[(n + 1) % all.length]!];
  };
  const comp = composition(spec);

  const freshCache = new Map<number, Enterprise>();
  function freshCompany(i: number): Enterprise {
    let company = freshCache.get(i);
    if (company) return company;
    const { region, districts } = triggerRegions[i % triggerRegions.length]!;
    const district = districts[Math.floor(i / triggerRegions.length) % districts.length]!;
    // Serials no world company uses (the world's codes are random; skip the rare clash).
    let serial = FRESH_SERIAL_BASE + i * 7;
    let id: string;
    do {
      const first17 = `91${district}${String(serial++).padStart(9, '0')}`;
      id = first17 + creditCodeCheckChar(first17);
    } while (known.has(id));
    company = { enterprise_id: id, name: `${region.name}压测新设企业${i + 1}号有限公司`, region: district, credit_grade: 'C', whitelisted: false };
    freshCache.set(i, company);
    return company;
  }
  const freshAgency = (i: number) => agencyOf(freshCompany(i).region, i);

  function triggerEvent(i: number): EventInput {
    const company = freshCompany(i);
    const agency = freshAgency(i);
    const region = regionOf(company.region);
    return {
      id: `${spec.runId}-t-${i}`, type: 'checkin', occurred_at: shanghai(day + 9 * HOUR + (i % 28_000) * 1000),
      region: company.region, source: region.source, enterprise_id: company.enterprise_id, agency_id: agency,
      officer_ids: officers(agency, i), action: 'enter', method: 'qr', onsite: true,
      location: { lat: region.center.lat, lng: region.center.lng },
    };
  }

  function visitOf(k: number) {
    const round = Math.floor(k / eligible.length);
    if (round >= MAX_ROUNDS) throw new RangeError(`visit ${k}: only ${MAX_ROUNDS} visits per company for ${eligible.length} companies; run shorter or with more companies`);
    const company = eligible[k % eligible.length]!;
    const agency = agencyOf(company.region, round);
    // Rounds 3 hours apart: separate visits, never 4 in 15 days.
    const at = day + 8 * HOUR + round * 3 * HOUR + ((k % eligible.length) % 3_600) * 1000;
    return { company, agency, at, round };
  }

  function visitEvents(k: number): EventInput[] {
    const { company, agency, at } = visitOf(k);
    const source = regionOf(company.region).source;
    const common = { region: company.region, source, enterprise_id: company.enterprise_id, agency_id: agency, officer_ids: officers(agency, k) };
    return [
      { id: `${spec.runId}-v-${k}-in`, type: 'checkin', occurred_at: shanghai(at), ...common, action: 'enter', method: 'qr', onsite: true },
      {
        id: `${spec.runId}-v-${k}-rec`, type: 'inspection', occurred_at: shanghai(at + 45 * 60_000), ...common,
        started_at: shanghai(at + 60_000), ended_at: shanghai(at + 40 * 60_000), onsite: true, outcome: 'no_issue',
      },
      { id: `${spec.runId}-v-${k}-out`, type: 'checkin', occurred_at: shanghai(at + 41 * 60_000), ...common, action: 'exit', method: 'qr', onsite: true },
    ];
  }

  function fillerEvent(k: number, tag: string): EventInput {
    const { company, agency, at } = visitOf(k);
    return {
      id: `${spec.runId}-f-${tag}`, type: 'checkin', occurred_at: shanghai(at + 42 * 60_000), region: company.region,
      source: regionOf(company.region).source, enterprise_id: company.enterprise_id, agency_id: agency,
      officer_ids: officers(agency, k), action: 'exit', method: 'qr', onsite: true,
    };
  }

  function plans(visits: number): EventInput[] {
    const out: EventInput[] = [];
    const filed = day - 10 * DAY + 10 * HOUR;
    for (let round = 0; round * eligible.length < visits; round++) {
      const upTo = Math.min(eligible.length, visits - round * eligible.length);
      const byAgency = new Map<string, string[]>();
      const matterOf = new Map<string, string>();
      for (let k = 0; k < upTo; k++) {
        const { company, agency } = visitOf(round * eligible.length + k);
        byAgency.set(agency, [...(byAgency.get(agency) ?? []), company.enterprise_id]);
        matterOf.set(agency, kindOf(company.region, round).matters[0]!);
      }
      for (const [agency, ids] of byAgency) {
        const city = agencies.get(agency)!.region;
        for (let i = 0; i < ids.length; i += PLAN_COMPANIES) {
          out.push({
            id: `${spec.runId}-p-${agency}-${round}-${i / PLAN_COMPANIES}`, type: 'plan', occurred_at: shanghai(filed), region: city,
            source: world.regions.find((r) => r.code === city)!.source, agency_id: agency, enterprise_ids: ids.slice(i, i + PLAN_COMPANIES),
            window_start: shanghaiDate(day - DAY), window_end: shanghaiDate(day + DAY), mode: 'onsite', status: 'filed',
            matters: [matterOf.get(agency)!],
          });
        }
      }
    }
    return out;
  }

  function request(r: number) {
    const events: EventInput[] = [];
    const triggers: string[] = [];
    for (let j = 0; j < comp.triggers; j++) {
      const i = r * comp.triggers + j;
      events.push(triggerEvent(i));
      triggers.push(freshCompany(i).enterprise_id);
    }
    for (let j = 0; j < comp.visits; j++) events.push(...visitEvents(r * comp.visits + j));
    for (let j = 0; j < comp.fillers; j++) events.push(fillerEvent(r * comp.visits + (j % comp.visits), `${r}-${j}`));
    return { events, triggers };
  }

  return { spec, world, day, eligible, freshCompany, freshAgency, triggerEvent, visitEvents, fillerEvent, plans, request };
}
