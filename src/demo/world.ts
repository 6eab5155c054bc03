import type { Agency, Enterprise, Officer } from '../ingest/schema.js';
import { creditCodeCheckChar } from '../ingest/credit-code.js';
import {
  DEMO_REGIONS, GIVEN_NAMES, INDUSTRIES, LEGAL_FORMS, SURNAMES, TRADE_NAME_FIRST, TRADE_NAME_SECOND, agencyKindsOf, agencyName, isCounty,
  type DemoRegion,
} from './catalogue.js';
import { createRandom, type Random } from './random.js';

/** Reference data in the shapes PUT /v1/enterprises, PUT /v1/agencies and PUT /v1/officers accept. */
export interface World {
  regions: DemoRegion[];
  agencies: Agency[];
  enterprises: Enterprise[];
  /** Officer ids of each agency, keyed by agency_id. */
  officers: Record<string, string[]>;
  /** Every officer of `officers` with a Chinese name, agency by agency. */
  officerRecords: Officer[];
}

export interface WorldOptions {
  seed: number;
  /** Default 600: the five regions hold 3,000 companies, as three cities of 1,000 did. */
  enterprisesPerRegion?: number;
  /** Region codes from the demo catalogue (cities and counties); all of them when omitted. */
  regions?: string[];
}

// A ~15%, B ~45%, C ~30%, D ~10%: the shape of a typical county's credit grading.
const GRADES = [['A', 15], ['B', 45], ['C', 30], ['D', 10]] as const;
// 烟台's white list (白名单) is a pilot in 莱州: some of its companies are on it.
const WHITE_LIST_DISTRICT = '370683';
const WHITE_LIST_SHARE = 0.1;
// Where a county has a quiet period, some B-grade companies agree their own (延长企业安静期): the last half of the month.
const LONG_QUIET_SHARE_OF_B = 0.06;
const LONG_QUIET_PERIOD = { days_of_month: Array.from({ length: 15 }, (_, i) => i - 15) };
// 海曙's review finds checks of deregistered companies (已注銷): the register still lists a few, deregistered at the
// end of 2025 (a fixed day, so that the world needs no clock and the date is never in the future).
const DEREGISTERED_REGION = '330203';
const DEREGISTERED_SHARE = 0.02;
const DEREGISTERED_ON = '2025-12-31';

// Names draw from a stream of their own, so naming the officers leaves every other draw of a seed's world (and
// the history and alerts built on it) as it was.
const NAMES_SALT = 0x4e616d65;

const CODE_ALPHABET = [...'0123456789ABCDEFGHJKLMNPQRTUWXY'];
const DIGITS = CODE_ALPHABET.slice(0, 10);
const ORG_CODE_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2];

export function createWorld(options: WorldOptions): World {
  const random = createRandom(options.seed);
  const regions = selectRegions(options.regions);
  const perRegion = options.enterprisesPerRegion ?? 600;
  const agencies: Agency[] = [];
  const officers: Record<string, string[]> = {};
  const enterprises: Enterprise[] = [];
  const codes = new Set<string>();
  const names = new Set<string>();

  for (const region of regions) {
    for (const kind of agencyKindsOf(region)) {
      const agencyId = `${region.code}-${kind.code}`;
      agencies.push({ agency_id: agencyId, name: agencyName(kind, region), region: region.code, kind: kind.kind });
      const count = random.int(...kind.officers);
      officers[agencyId] = Array.from({ length: count }, (_, i) => `${agencyId}-${String(i + 1).padStart(3, '0')}`);
    }
    for (let i = 0; i < perRegion; i++) {
      const district = random.pick(region.districts);
      const grade = random.weighted(GRADES);
      const enterprise: Enterprise = {
        enterprise_id: uniqueCreditCode(random, district.code, codes),
        name: uniqueName(random, region, district.name, names),
        region: district.code,
        credit_grade: grade,
        whitelisted: district.code === WHITE_LIST_DISTRICT && random.chance(WHITE_LIST_SHARE),
      };
      if (region.quietPeriod && grade === 'B' && random.chance(LONG_QUIET_SHARE_OF_B)) enterprise.quiet_period = LONG_QUIET_PERIOD;
      if (region.code === DEREGISTERED_REGION && random.chance(DEREGISTERED_SHARE)) Object.assign(enterprise, { status: 'deregistered', deregistered_on: DEREGISTERED_ON });
      enterprises.push(enterprise);
    }
  }
  return { regions, agencies, enterprises, officers, officerRecords: nameOfficers(createRandom(options.seed ^ NAMES_SALT), officers) };
}

/** A name for each officer, distinct within the agency (two 王伟 in one office would be told apart by number only). */
function nameOfficers(random: Random, officers: Record<string, string[]>): Officer[] {
  return Object.entries(officers).flatMap(([agencyId, ids]) => {
    const taken = new Set<string>();
    return ids.map((id) => {
      let name = '';
      for (let attempt = 0; attempt < 20 && (name === '' || taken.has(name)); attempt++) name = random.pick(SURNAMES) + random.pick(GIVEN_NAMES);
      taken.add(name);
      return { officer_id: id, name, agency_id: agencyId };
    });
  });
}

function selectRegions(codes: string[] | undefined): DemoRegion[] {
  if (!codes) return [...DEMO_REGIONS];
  return codes.map((code) => {
    const region = DEMO_REGIONS.find((r) => r.code === code);
    if (!region) {
      const known = DEMO_REGIONS.map((r) => `${r.code} ${r.name}`).join(', ');
      throw new RangeError(`no demo region ${code}; known: ${known}`);
    }
    return region;
  });
}

/** Registered by market regulation ('9') as a company ('1'), as most credit codes are. */
function uniqueCreditCode(random: Random, district: string, taken: Set<string>): string {
  for (;;) {
    const first17 = `91${district}${organizationCode(random)}`;
    const code = first17 + creditCodeCheckChar(first17);
    if (!taken.has(code)) {
      taken.add(code);
      return code;
    }
  }
}

/**
 * The embedded organization code (GB 11714): codes issued since 2015 start
 * with MA, older ones are digits; the ninth character is its own check.
 */
function organizationCode(random: Random): string {
  const recent = random.chance(0.6);
  let body = recent ? 'MA' : '';
  while (body.length < 8) body += recent ? random.pick(CODE_ALPHABET) : random.pick(DIGITS);
  const sum = [...body].reduce((total, ch, i) => total + parseInt(ch, 36) * ORG_CODE_WEIGHTS[i]!, 0);
  const check = 11 - (sum % 11);
  return body + (check === 10 ? 'X' : check === 11 ? '0' : String(check));
}

/**
 * Registries refuse duplicate names in one area, so retry a few times; a world
 * larger than the vocabulary keeps a duplicate rather than looping forever.
 * A name starts with where it was registered: the city or a county in it, or
 * in a county the county (and sometimes its town), the city, the province.
 */
function uniqueName(random: Random, region: DemoRegion, district: string, taken: Set<string>): string {
  const places = isCounty(region)
    ? [[region.government, 5], [region.government + district, 2], [`${region.city}市`, 2], [region.province, 1]] as const
    : [[region.government, 6], [district, 3], [region.province, 1]] as const;
  let name = '';
  for (let attempt = 0; attempt < 20; attempt++) {
    const place = random.weighted(places);
    const trade = random.pick(TRADE_NAME_FIRST) + random.pick(TRADE_NAME_SECOND);
    name = place + trade + random.pick(INDUSTRIES) + random.weighted(LEGAL_FORMS);
    if (!taken.has(name)) break;
  }
  taken.add(name);
  return name;
}
