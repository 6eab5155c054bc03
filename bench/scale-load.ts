/**
 * The load side of `npm run bench:scale`, in its own process so its CPU is
 * measured apart from the service's. It generates the demo events once, says
 * `{"ready":…}`, then runs one open-loop step per line it reads on stdin
 * (`{"rate":…,"seconds":…,"step":…}`) and answers each with one JSON line.
 *
 * Open loop: batch i of a step starts at start + i·(batch/rate) s whatever the
 * answers take, round-robin over the API URLs. One event per batch is a
 * check-in with no plan at a company never seen before (宁波海曙 330203, where
 * the policy map puts no-plan in force and which the background world does not
 * use): it raises one no-plan alert at once, and its send time is reported for
 * the event → alert latency.
 */
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { DAY, HOUR } from '../src/calendar/index.js';
import { createWorld, generateEvents } from '../src/demo/index.js';
import { creditCodeCheckChar } from '../src/ingest/credit-code.js';
import type { EventInput } from '../src/ingest/schema.js';
import { EVENTS_PER_VISIT_DAY } from './history.js';
import { createPoster } from './post.js';

export interface LoadSetup {
  urls: string[];
  /** Background events to generate (enough for every step). */
  events: number;
  batch: number;
  seed: number;
}

export interface StepPlan {
  step: number;
  rate: number;
  seconds: number;
}

export interface StepReport {
  step: number;
  requests: number;
  ok: number;
  errors: number;
  statuses: Record<string, number>;
  events: number;
  seconds: number;
  httpMs: { p50: number; p99: number; max: number };
  /** How late the client started requests against its schedule (its own CPU share on a busy machine). */
  scheduleLagMs: { p50: number; p99: number; max: number };
  /** Trigger company → epoch ms its request was sent (only for requests answered 202). */
  triggers: Record<string, number>;
}

export const BACKGROUND_REGIONS = ['370600', '350300'];
export const TRIGGER_DISTRICT = '330203';
export const TRIGGER_AGENCY = { agency_id: '330203-SCJG', name: '宁波市海曙区市场监督管理局', region: '330203', kind: 'market_regulation' as const };
const shanghai = (ms: number) => `${new Date(ms + 8 * HOUR).toISOString().slice(0, 19)}+08:00`;

/** The background world: the same in the coordinator (reference data) and here (events). */
export const backgroundWorld = (seed: number) => createWorld({ seed, enterprisesPerRegion: 3000, regions: BACKGROUND_REGIONS });

/** Trigger company `index` of step `step` (digits 9, step, index): a valid credit code nobody else uses. */
export function triggerCompany(step: number, index: number): string {
  const first17 = `91${TRIGGER_DISTRICT}9${step}${String(index).padStart(7, '0')}`;
  return first17 + creditCodeCheckChar(first17);
}

/** How many trigger companies a step can name (one per batch). */
export const triggersOf = (plan: StepPlan, batch: number) => Math.ceil((plan.rate * plan.seconds) / (batch - 1));

/** A week ago at 10:00 Shanghai, moved to the 8th–18th (long past no-plan's 5-minute wait): one no-plan alert at once. */
function triggerTime(): number {
  const d = new Date(Date.now() - 7 * DAY);
  const day = Math.min(Math.max(d.getUTCDate(), 8), 18);
  return Date.parse(`${d.toISOString().slice(0, 8)}${String(day).padStart(2, '0')}T10:00:00+08:00`);
}

function background(setup: LoadSetup): EventInput[] {
  const world = backgroundWorld(setup.seed);
  // 120 days ending on the 1st of the month before last: every deferred decision is long due.
  const now = new Date(Date.now() + 8 * HOUR);
  const to = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1) - 8 * HOUR;
  const days = 120;
  const visitsPerDay = Math.ceil((setup.events * 1.1) / (EVENTS_PER_VISIT_DAY * days));
  const events = generateEvents(world, { seed: setup.seed, from: new Date(to - days * DAY), to: new Date(to), visitsPerDay, idPrefix: 'bg' });
  if (events.length < setup.events) throw new Error(`generated ${events.length} background events, ${setup.events} needed`);
  return events;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const round = (n: number) => Math.round(n * 10) / 10;
const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1) ?? 0) };
};

async function main() {
  const setup = JSON.parse(process.argv[2] ?? '{}') as LoadSetup;
  const poster = createPoster(256);
  const urls = setup.urls.map((u) => new URL('/v1/events', u));
  const events = background(setup);
  let offset = 0;
  const at = triggerTime();
  const officer = `${TRIGGER_AGENCY.agency_id}-001`;

  async function runStep(plan: StepPlan): Promise<StepReport> {
    const perBatch = setup.batch - 1;
    const batches = Math.ceil((plan.rate * plan.seconds) / perBatch);
    const bodies: Array<{ body: string; company: string; size: number }> = [];
    for (let i = 0; i < batches; i++) {
      // The generator's ids as they are: visits name their plans by them (`plan_id`).
      const slice = events.slice(offset, offset + perBatch);
      offset += perBatch;
      const company = triggerCompany(plan.step, i);
      slice.push({
        id: `trigger-${plan.step}-${i}`, type: 'checkin', occurred_at: shanghai(at), region: TRIGGER_DISTRICT, source: 'zhejiang-enforcement', enterprise_id: company,
        agency_id: TRIGGER_AGENCY.agency_id, officer_ids: [officer], action: 'enter', method: 'qr',
      });
      bodies.push({ body: JSON.stringify(slice), company, size: slice.length });
    }
    const statuses: Record<string, number> = {};
    const latencies: number[] = [];
    const lags: number[] = [];
    const triggers: Record<string, number> = {};
    let ok = 0;
    let accepted = 0;
    const interval = (perBatch + 1) / plan.rate * 1000;
    const started = performance.now();
    const startedWall = Date.now();
    const inFlight: Array<Promise<void>> = [];
    for (let i = 0; i < bodies.length; i++) {
      const due = started + i * interval;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      lags.push(Math.max(0, performance.now() - due));
      const { body, company, size } = bodies[i]!;
      const sentAt = startedWall + (performance.now() - started);
      inFlight.push(poster.post(urls[i % urls.length]!, body).then(({ status }) => {
        latencies.push(performance.now() - due);
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status === 202) {
          ok++;
          accepted += size;
          triggers[company] = sentAt;
        }
      }));
    }
    await Promise.all(inFlight);
    return {
      step: plan.step, requests: bodies.length, ok, errors: bodies.length - ok, statuses, events: accepted,
      seconds: round((performance.now() - started) / 1000), httpMs: summary(latencies), scheduleLagMs: summary(lags), triggers,
    };
  }

  process.stdout.write(`${JSON.stringify({ ready: events.length })}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    process.stdout.write(`${JSON.stringify(await runStep(JSON.parse(line) as StepPlan))}\n`);
  }
  poster.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
