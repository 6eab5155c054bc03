/**
 * The load test's traffic, shared by the k6 script (loadtest/qingjian.js) and
 * its Node twin (`npm run load`): plain JavaScript with no imports, because k6
 * runs it in its own JavaScript engine.
 *
 * Every event's outcome is known, so a run can be checked afterwards. The
 * scenario's `traffic.regions` must lie where the policy map (rules/regions.yaml)
 * puts `no-plan` in force citywide (烟台 3706, 莆田 3503), and
 * `traffic.complaint_regions` where complaints go to the 12345 hotline only (莆田):
 * - trigger (every `trigger_every`-th event): an on-site QR check-in at a
 *   company of its own with no plan on file — exactly one `no-plan` alert.
 *   It happened TRIGGER_AGE_MS before it is sent (see there), so the rule
 *   decides on arrival: a listener's receipt time minus the alert's
 *   `first_seen_at` (the event time of its only evidence, the trigger) minus
 *   TRIGGER_AGE_MS is event → alert latency.
 *   The company is registered in setup with its own quiet period far from
 *   today, so the check-in falls in no quiet period whatever the date, should
 *   the map put one in force there.
 * - complaint (every `complaint_every`-th event, category `misconduct`), at a
 *   company of its own in a complaint region: exactly one 12345 ticket, no
 *   alert (where complaints also go to the feed, 烟台 and 德州, each raises a
 *   `complaint-received` alert).
 * - the rest: exit check-ins and off-site inspection records, four at a time at
 *   one company (as a visit leaves a few records): nothing (every rule matches
 *   entries or on-site inspections).
 *
 * Ids: `lt-<run>-<scenario code>-<event number>`. Companies:
 * `91 <district> <nonce:2> <role:1> <index:6> <check>`; the nonce (10–99) is the
 * run's, so a run's rows and alerts can be told apart from other runs'.
 */

const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const HOUR = 3600000;
/** Consecutive other events that share a company: one visit's worth, as a company sees a few events at a time. */
const EVENTS_PER_COMPANY = 4;
const PER_SCENARIO = 100000;
/**
 * How long before it is sent a trigger happened. `no-plan` decides a check-in at the moment of entry, by event
 * time: a check-in dated even a little after the service's clock (a load generator whose clock runs ahead) waits
 * until that moment. Dating triggers ten minutes back keeps any such skew out of the measured latency, which is
 * the service's alone (the listeners add it back).
 */
export const TRIGGER_AGE_MS = 10 * 60000;

/** Scenario executors that send events, and the code that goes into their ids. */
export const INGEST_SCENARIOS = { ingest_single: 's', ingest_batch: 'b' };
const ROLE = { trigger: 1, filler: 2, complainant: 3 };
const SCENARIO_DIGIT = { s: 1, b: 2 };

/** GB 32100-2015 check character (as src/ingest/credit-code.ts). */
function checkChar(first17) {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += ALPHABET.indexOf(first17[i]) * WEIGHTS[i];
  return ALPHABET[(31 - (sum % 31)) % 31];
}

function company(run, district, role, index) {
  if (!(index >= 0 && index < 1000000)) throw new RangeError(`company index ${index} out of range`);
  const first17 = `91${district}${run.nonce}${role}${String(index).padStart(6, '0')}`;
  return first17 + checkChar(first17);
}

const cityOf = (district) => `${district.slice(0, 4)}00`;
const agencyOf = (district) => `${cityOf(district)}-SCJG`;
const officersOf = (agency, n) => [`${agency}-${String(1 + (n % 40)).padStart(3, '0')}`];
const isoMs = (ms) => new Date(ms).toISOString();
const shanghaiDay = (ms) => new Date(ms + 8 * HOUR).getUTCDate();

/**
 * The trigger behind an alert of this run (the inverse of its company code): its scenario code and trigger
 * number; null for any other company.
 */
export function triggerOf(run, alert) {
  const id = alert.enterprise_id;
  if (typeof id !== 'string' || id.length !== 18 || id.slice(8, 10) !== run.nonce || Number(id[10]) !== ROLE.trigger) return null;
  const digit = Number(id[11]);
  const code = Object.keys(SCENARIO_DIGIT).find((c) => SCENARIO_DIGIT[c] === digit);
  return code ? { code, number: Number(id.slice(12, 17)) } : null;
}

/** When the trigger of a run's alert was sent (ms): its event time, the alert's `first_seen_at`, plus TRIGGER_AGE_MS. */
export const triggerSentAt = (alert) => Date.parse(alert.first_seen_at) + TRIGGER_AGE_MS;

/** A new run: its id, company nonce and start, from the clock and a random number in [0, 1). */
export function newRun(now, random) {
  const nonce = String(10 + Math.floor(random * 90));
  return { id: `${now.toString(36)}${nonce}`, nonce, started_at: now };
}

/** Iterations an arrival-rate scenario starts (k6 options; constant and ramping arrival rate). */
export function plannedIterations(scenario) {
  const unit = seconds(scenario.timeUnit || '1s');
  if (scenario.executor === 'constant-arrival-rate') return Math.ceil((scenario.rate / unit) * seconds(scenario.duration));
  if (scenario.executor === 'ramping-arrival-rate') {
    let rate = scenario.startRate || 0;
    let total = 0;
    for (const stage of scenario.stages) {
      total += ((rate + stage.target) / 2 / unit) * seconds(stage.duration);
      rate = stage.target;
    }
    return Math.ceil(total);
  }
  return 0;
}

/** k6 duration strings ('90s', '2m', '1m30s', '500ms') in seconds. */
export function seconds(text) {
  if (typeof text === 'number') return text;
  const units = { ms: 0.001, s: 1, m: 60, h: 3600 };
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let match;
  let consumed = 0;
  while ((match = re.exec(text)) !== null) {
    total += Number(match[1]) * units[match[2]];
    consumed += match[0].length;
  }
  if (consumed === 0 || consumed !== text.length) throw new Error(`bad duration '${text}'`);
  return total;
}

/** How long a scenario runs, in seconds (its duration, or the sum of its stages). */
export function scenarioSeconds(scenario) {
  if (scenario.stages) return scenario.stages.reduce((sum, stage) => sum + seconds(stage.duration), 0);
  return seconds(scenario.duration);
}

/** Events per iteration of a scenario (the batch scenario posts `batch_size`). */
export function eventsPerIteration(plan, scenarioName) {
  return scenarioName === 'ingest_batch' ? plan.traffic.batch_size : 1;
}

/**
 * The traffic of one run: events by (scenario, event number), the companies
 * setup registers, and the read mix's requests.
 */
export function createTraffic(plan, run) {
  const t = plan.traffic;
  const regions = t.regions;
  const complaintRegions = t.complaint_regions || regions;
  const quietDay = ((shanghaiDay(run.started_at) + 13) % 28) + 1;

  // Scenario digit first, so the single and batch scenarios never share a company.
  function triggerCompany(code, k) {
    const index = Math.floor(k / t.trigger_every);
    if (index >= PER_SCENARIO) throw new RangeError(`more than ${PER_SCENARIO} triggers in one scenario: raise trigger_every`);
    return company(run, regions[index % regions.length], ROLE.trigger, SCENARIO_DIGIT[code] * PER_SCENARIO + index);
  }
  // Spread over many companies: a company's rule evaluation reads its history, so a few companies taking
  // every event would measure ever longer histories instead of the service. Past 400,000 events it wraps.
  function fillerCompany(code, k) {
    const index = Math.floor(k / EVENTS_PER_COMPANY) % PER_SCENARIO;
    return company(run, regions[index % regions.length], ROLE.filler, SCENARIO_DIGIT[code] * PER_SCENARIO + index);
  }
  function complainantCompany(code, k) {
    const index = Math.floor(k / t.complaint_every);
    if (index >= PER_SCENARIO) throw new RangeError(`more than ${PER_SCENARIO} complaints in one scenario: raise complaint_every`);
    return company(run, complaintRegions[index % complaintRegions.length], ROLE.complainant, SCENARIO_DIGIT[code] * PER_SCENARIO + index);
  }

  /** Event number k of a scenario, sent at `now` (ms). */
  function event(code, k, now) {
    const id = `lt-${run.id}-${code}-${k}`;
    if (k % t.trigger_every === 0) {
      const enterprise_id = triggerCompany(code, k);
      const district = enterprise_id.slice(2, 8);
      const agency_id = agencyOf(district);
      return {
        id, type: 'checkin', occurred_at: isoMs(now - TRIGGER_AGE_MS), region: district, source: 'loadtest', enterprise_id, agency_id,
        officer_ids: officersOf(agency_id, k), action: 'enter', method: 'qr', onsite: true,
      };
    }
    if (k % t.complaint_every === 1) {
      const enterprise_id = complainantCompany(code, k);
      const district = enterprise_id.slice(2, 8);
      return {
        id, type: 'complaint', occurred_at: isoMs(now), region: district, source: '12345', enterprise_id, agency_id: agencyOf(district),
        category: 'misconduct', channel: '12345', text: `压测投诉 ${k}：执法人员态度粗暴`,
      };
    }
    const enterprise_id = fillerCompany(code, k);
    const district = enterprise_id.slice(2, 8);
    const agency_id = agencyOf(district);
    const base = { id, region: district, source: 'loadtest', enterprise_id, agency_id, officer_ids: officersOf(agency_id, k) };
    return k % 2 === 0
      ? { ...base, type: 'checkin', occurred_at: isoMs(now), action: 'exit', method: 'qr', onsite: true }
      : { ...base, type: 'inspection', occurred_at: isoMs(now), started_at: isoMs(now - HOUR), onsite: false, outcome: 'no_issue' };
  }

  /** The events of one iteration of an ingest scenario. */
  function iteration(scenarioName, i, now) {
    const code = INGEST_SCENARIOS[scenarioName];
    const n = eventsPerIteration(plan, scenarioName);
    const events = [];
    for (let j = 0; j < n; j++) events.push(event(code, i * n + j, now));
    return events;
  }

  /** Reference data for setup: the agencies and every company the run's planned iterations can reach. */
  function referenceData() {
    const agencies = [...new Set([...regions, ...complaintRegions].map(cityOf))].map((city) => ({
      agency_id: `${city}-SCJG`, name: `压测市场监督管理局（${city}）`, region: city, kind: 'market_regulation',
    }));
    const enterprise = (enterprise_id, name) => ({
      enterprise_id, name, region: enterprise_id.slice(2, 8), credit_grade: 'C', whitelisted: false, quiet_period: { days_of_month: [quietDay] },
    });
    const enterprises = [];
    for (const [name, code] of Object.entries(INGEST_SCENARIOS)) {
      const scenario = plan.options.scenarios[name];
      if (!scenario) continue;
      const events = plannedIterations(scenario) * eventsPerIteration(plan, name);
      // One spare: an arrival-rate executor may start one iteration more than the rate × duration.
      const triggers = Math.ceil(events / t.trigger_every) + 1;
      for (let k = 0; k < triggers * t.trigger_every; k += t.trigger_every) {
        enterprises.push(enterprise(triggerCompany(code, k), `压测新设企业${code}${k}号有限公司`));
      }
      const fillers = Math.min(PER_SCENARIO, Math.ceil(events / EVENTS_PER_COMPANY) + 1);
      for (let k = 0; k < fillers * EVENTS_PER_COMPANY; k += EVENTS_PER_COMPANY) {
        enterprises.push(enterprise(fillerCompany(code, k), `压测日常企业${code}${k / EVENTS_PER_COMPANY}号有限公司`));
      }
      const complainants = Math.ceil(events / t.complaint_every) + 1;
      for (let k = 1; k < complainants * t.complaint_every; k += t.complaint_every) {
        enterprises.push(enterprise(complainantCompany(code, k), `压测投诉企业${code}${(k - 1) / t.complaint_every}号有限公司`));
      }
    }
    return { agencies, enterprises };
  }

  // Timelines are read from companies of the first ingest scenario the plan runs, within its first minute.
  const readsScenario = Object.keys(INGEST_SCENARIOS).find((name) => plan.options.scenarios[name]) || 'ingest_batch';
  const readsCode = INGEST_SCENARIOS[readsScenario];
  const readableEvents = Math.max(EVENTS_PER_COMPANY, Math.min(PER_SCENARIO, 60 * eventsPerIteration(plan, readsScenario)));

  /** The i-th request of the read mix: [tag name, path]. */
  function read(i) {
    const region = regions[i % regions.length];
    switch (i % 4) {
      case 0: return ['alerts', '/v1/alerts?limit=50'];
      case 1: return ['alerts_filtered', `/v1/alerts?rule=no-plan&region=${region.slice(0, 4)}&limit=50`];
      case 2: return ['timeline', `/v1/enterprises/${fillerCompany(readsCode, (i * 7) % readableEvents)}/timeline?limit=100`];
      default: return ['tickets', '/v1/hotline/tickets?limit=50'];
    }
  }

  return { event, iteration, referenceData, read, isTrigger: (k) => k % t.trigger_every === 0, isComplaint: (k) => k % t.trigger_every !== 0 && k % t.complaint_every === 1 };
}

/** Counts of one batch of events by what it must leave behind. */
export function outcomeCounts(events, traffic) {
  let triggers = 0;
  let complaints = 0;
  for (const e of events) {
    const k = Number(e.id.slice(e.id.lastIndexOf('-') + 1));
    if (traffic.isTrigger(k)) triggers++;
    else if (traffic.isComplaint(k)) complaints++;
  }
  return { events: events.length, triggers, complaints };
}

/**
 * Requests a minute each token role makes at the scenarios' peak rates (tokens are limited per minute):
 * INGEST (both ingest scenarios), READ and HOTLINE (the read mix, one request in four to the ticket queue).
 * Feed connections are WebSocket upgrades, which the rate limit does not count.
 */
export function requestsPerMinute(plan) {
  const perMinute = (scenario) => {
    if (!scenario) return 0;
    const peak = scenario.stages ? Math.max(scenario.startRate || 0, ...scenario.stages.map((s) => s.target)) : scenario.rate;
    return (peak / seconds(scenario.timeUnit || '1s')) * 60;
  };
  const scenarios = plan.options.scenarios;
  const reads = perMinute(scenarios.reads);
  return {
    INGEST: Math.ceil(perMinute(scenarios.ingest_single) + perMinute(scenarios.ingest_batch)),
    READ: Math.ceil((reads * 3) / 4),
    HOTLINE: Math.ceil(reads / 4),
  };
}

/** The listener's region filter: listeners are spread over the regions' cities, as commissions are. */
export function listenerRegion(plan, vu) {
  const regions = plan.traffic.regions;
  return regions[vu % regions.length].slice(0, 4);
}
