/**
 * Steady traffic whose outcome is known exactly, and the ledger of what the
 * API acknowledged.
 *
 * The companies are in 莆田 (城厢区 350302), where the policy map
 * (rules/regions.yaml) puts no-plan and result-overdue in force, and sends
 * complaints to the 12345 hotline only. Every request of `batch` events holds:
 * - 3 triggers: an on-site QR check-in at a fresh company with no plan on file.
 *   Each raises exactly one `no-plan` alert, as it arrives (the event day, the
 *   12th, is long past, so the rule's wait for late plans is over). Each comes
 *   with the agency's result the same day (an off-site record with an outcome),
 *   so `result-overdue`, also in force in 莆田, has nothing to say.
 * - 1 complaint (category `misconduct`) at a fresh company: exactly one hotline
 *   ticket, no alert (莆田 sends complaints to 12345, not to the feed).
 * - 1 plan naming 3 fresh companies (stored as 3 rows with one id): nothing.
 * - fillers: exit check-ins and off-site inspection records at a small pool of
 *   companies: nothing (every rule matches entries or on-site inspections).
 *
 * Companies are phase-scoped: their credit codes are `91 350302 <phase><role>
 * <7-digit index> <check>`, so a phase's rows, alerts and tickets can be
 * selected by prefix, and any alert outside the expected ones is visible.
 *
 * A request that is not answered 202 is not acknowledged: the events may or
 * may not have reached Redis. Like a real platform, the traffic retries it
 * later with the same ids; ingest dedups (or storage folds) whatever did.
 */
import { eventDay } from '../bench/feed-traffic.js';
import { creditCodeCheckChar } from '../src/ingest/credit-code.js';
import type { Agency, Enterprise, EventInput } from '../src/ingest/schema.js';

const DISTRICT = '350302';
const CITY = '350300';
const SOURCE = 'putian-app';
const TRIGGERS_PER_REQUEST = 3;
const PLAN_COMPANIES = 3;
const FILLER_POOL = 100;
const HOUR = 3600_000;
const DAY = 24 * HOUR;

export const AGENCIES: Agency[] = [
  { agency_id: `${CITY}-SCJG`, name: '莆田市市场监督管理局', region: CITY, kind: 'market_regulation' },
  { agency_id: `${CITY}-YJGL`, name: '莆田市应急管理局', region: CITY, kind: 'emergency' },
];
const [TRIGGER_AGENCY, PLAN_AGENCY] = [AGENCIES[0]!.agency_id, AGENCIES[1]!.agency_id];

/** The role digit in a company's credit code. */
const Role = { Trigger: 1, Complaint: 2, Plan: 3, Filler: 4 } as const;
type Role = (typeof Role)[keyof typeof Role];

const shanghai = (ms: number) => `${new Date(ms + 8 * HOUR).toISOString().slice(0, 19)}+08:00`;
const shanghaiDate = (ms: number) => new Date(ms + 8 * HOUR).toISOString().slice(0, 10);

/** What one request must leave behind once stored and evaluated. */
export interface RequestPlan {
  r: number;
  events: EventInput[];
  /** (event id, company) per stored row. */
  rows: Array<[string, string]>;
  /** Companies that must each end with exactly one no-plan alert. */
  triggers: string[];
  /** Complaint ids that must each end with exactly one ticket. */
  complaints: string[];
}

export interface PhaseTraffic {
  phase: string;
  /** Id prefix of the phase's events (`<run>-<phase digit>-`). */
  idPrefix: string;
  /** Credit-code prefix of every company the phase uses. */
  companyPrefix: string;
  batch: number;
  maxRequests: number;
  enterprises(): Enterprise[];
  request(r: number): RequestPlan;
}

export function phaseTraffic(options: { run: string; phase: string; digit: number; batch: number; maxRequests: number }): PhaseTraffic {
  const { run, digit, batch, maxRequests } = options;
  // Each trigger is a check-in and its result; then the complaint and the plan.
  const fillers = batch - 2 * TRIGGERS_PER_REQUEST - 2;
  if (fillers < 0) throw new RangeError(`a request needs at least ${2 * TRIGGERS_PER_REQUEST + 2} events`);
  if (!(digit >= 1 && digit <= 9)) throw new RangeError('phase digit must be 1–9');
  const day = eventDay();
  const idPrefix = `${run}-${digit}-`;
  const companyPrefix = `91${DISTRICT}${digit}`;
  const company = (role: Role, index: number) => {
    if (index >= 10_000_000) throw new RangeError('company index out of range');
    const first17 = `91${DISTRICT}${digit}${role}${String(index).padStart(7, '0')}`;
    return first17 + creditCodeCheckChar(first17);
  };
  const officers = (agency: string, n: number) => [`${agency}-${String(1 + (n % 20)).padStart(3, '0')}`];
  const common = { region: DISTRICT, source: SOURCE };

  function request(r: number): RequestPlan {
    const events: EventInput[] = [];
    const rows: Array<[string, string]> = [];
    const triggers: string[] = [];
    const at = day + 9 * HOUR + (r % 20_000) * 1000;
    for (let j = 0; j < TRIGGERS_PER_REQUEST; j++) {
      const enterprise_id = company(Role.Trigger, r * TRIGGERS_PER_REQUEST + j);
      const id = `${idPrefix}${r}-t${j}`;
      events.push({
        id, type: 'checkin', occurred_at: shanghai(at), ...common, enterprise_id, agency_id: TRIGGER_AGENCY,
        officer_ids: officers(TRIGGER_AGENCY, r), action: 'enter', method: 'qr', onsite: true,
      });
      rows.push([id, enterprise_id]);
      triggers.push(enterprise_id);
      // The agency's result, fed back the same day (莆田's 5 working days, result-overdue), off-site so that it
      // is no second visit.
      const resultId = `${idPrefix}${r}-t${j}r`;
      events.push({
        id: resultId, type: 'inspection', occurred_at: shanghai(at + 4 * HOUR), started_at: shanghai(at + 3 * HOUR), ...common, enterprise_id,
        agency_id: TRIGGER_AGENCY, officer_ids: officers(TRIGGER_AGENCY, r), onsite: false, outcome: 'no_issue',
      });
      rows.push([resultId, enterprise_id]);
    }
    const complainer = company(Role.Complaint, r);
    const complaintId = `${idPrefix}${r}-c`;
    events.push({
      id: complaintId, type: 'complaint', occurred_at: shanghai(at + HOUR), ...common, source: '12345', enterprise_id: complainer,
      agency_id: TRIGGER_AGENCY, category: 'misconduct', channel: '12345', text: `压测投诉 ${r}：执法人员态度粗暴`,
    });
    rows.push([complaintId, complainer]);
    const planned = Array.from({ length: PLAN_COMPANIES }, (_, k) => company(Role.Plan, r * PLAN_COMPANIES + k));
    const planId = `${idPrefix}${r}-p`;
    events.push({
      id: planId, type: 'plan', occurred_at: shanghai(day - 10 * DAY + 10 * HOUR), region: CITY, source: SOURCE, agency_id: PLAN_AGENCY,
      enterprise_ids: planned, window_start: shanghaiDate(day - DAY), window_end: shanghaiDate(day + DAY), mode: 'onsite', status: 'filed',
    });
    for (const c of planned) rows.push([planId, c]);
    for (let j = 0; j < fillers; j++) {
      const enterprise_id = company(Role.Filler, (r * fillers + j) % FILLER_POOL);
      const id = `${idPrefix}${r}-f${j}`;
      const base = { id, ...common, enterprise_id, agency_id: TRIGGER_AGENCY, officer_ids: officers(TRIGGER_AGENCY, j) };
      events.push(j % 2 === 0
        ? { ...base, type: 'checkin', occurred_at: shanghai(at + 2 * HOUR), action: 'exit', method: 'qr', onsite: true }
        : { ...base, type: 'inspection', occurred_at: shanghai(at + 3 * HOUR), started_at: shanghai(at + 2 * HOUR), onsite: false, outcome: 'no_issue' });
      rows.push([id, enterprise_id]);
    }
    return { r, events, rows, triggers, complaints: [complaintId] };
  }

  function enterprises(): Enterprise[] {
    const out: Enterprise[] = [];
    const add = (role: Role, n: number, label: string) => {
      for (let i = 0; i < n; i++) {
        out.push({ enterprise_id: company(role, i), name: `混沌测试${label}企业${digit}-${i}号有限公司`, region: DISTRICT, credit_grade: 'C', whitelisted: false });
      }
    };
    add(Role.Trigger, maxRequests * TRIGGERS_PER_REQUEST, '入企');
    add(Role.Complaint, maxRequests, '投诉');
    add(Role.Plan, maxRequests * PLAN_COMPANIES, '计划');
    add(Role.Filler, FILLER_POOL, '日常');
    return out;
  }

  return { phase: options.phase, idPrefix, companyPrefix, batch, maxRequests, enterprises, request };
}

// ---------------------------------------------------------------- sending and the ledger

/** What one attempt got: an HTTP status, or how the connection failed. */
export type Outcome = '202' | `${number}` | 'refused' | 'reset' | 'timeout';

export interface Attempt {
  at: number;
  outcome: Outcome;
  /** On 202: ids ingest answered as already accepted (an earlier, unanswered attempt had reached Redis). */
  duplicates?: number;
  /** On errors: the first words of the answer, to say what failed. */
  detail?: string;
}

export interface RequestRecord {
  plan: RequestPlan;
  attempts: Attempt[];
  /** When the first 202 arrived (null: not acknowledged yet). */
  ackedAt: number | null;
  /** Index in `attempts` of the first attempt made by the retry pass (after the traffic stopped). */
  retryFrom: number | null;
}

export class Ledger {
  readonly requests: RequestRecord[] = [];

  add(plan: RequestPlan): RequestRecord {
    const record: RequestRecord = { plan, attempts: [], ackedAt: null, retryFrom: null };
    this.requests.push(record);
    return record;
  }

  acked(until = Infinity): RequestRecord[] {
    return this.requests.filter((q) => q.ackedAt !== null && q.ackedAt <= until);
  }

  unacked(): RequestRecord[] {
    return this.requests.filter((q) => q.ackedAt === null);
  }

  /** Outcomes of the live traffic's first attempts (not the retry pass), optionally only those sent in [from, to]. */
  outcomes(from = -Infinity, to = Infinity): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const q of this.requests) {
      const first = q.attempts[0];
      if (!first || first.at < from || first.at > to) continue;
      counts[first.outcome] = (counts[first.outcome] ?? 0) + 1;
    }
    return counts;
  }

  /** Every distinct error detail seen (first attempts and retries), for the report. */
  details(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const q of this.requests) for (const a of q.attempts) if (a.detail) counts[`${a.outcome} ${a.detail}`] = (counts[`${a.outcome} ${a.detail}`] ?? 0) + 1;
    return counts;
  }
}

export interface Sender {
  url: string;
  token: string;
  timeoutMs: number;
}

async function attempt(sender: Sender, plan: RequestPlan): Promise<Attempt> {
  const at = Date.now();
  try {
    const res = await fetch(`${sender.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${sender.token}` },
      body: JSON.stringify(plan.events),
      signal: AbortSignal.timeout(sender.timeoutMs),
    });
    const text = await res.text();
    if (res.status !== 202) return { at, outcome: String(res.status) as Outcome, detail: text.slice(0, 160) };
    const body = JSON.parse(text) as { accepted: number; duplicates: number };
    if (body.accepted + body.duplicates !== plan.events.length) throw new Error(`202 for ${body.accepted} + ${body.duplicates} of ${plan.events.length} events`);
    return { at, outcome: '202', duplicates: body.duplicates };
  } catch (err) {
    return { at, ...networkOutcome(err) };
  }
}

function networkOutcome(err: unknown): { outcome: Outcome; detail: string } {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return { outcome: 'timeout', detail: 'no answer in time' };
  const code = e?.cause?.code ?? '';
  const detail = `${code || e?.cause?.message || e?.message || String(err)}`.slice(0, 80);
  return { outcome: code === 'ECONNREFUSED' ? 'refused' : 'reset', detail };
}

async function send(sender: Sender, record: RequestRecord): Promise<Attempt> {
  const result = await attempt(sender, record.plan);
  record.attempts.push(result);
  if (result.outcome === '202' && record.ackedAt === null) record.ackedAt = Date.now();
  return result;
}

export interface TrafficRun {
  /** Requests sent so far. */
  sent(): number;
  /** Stops sending and waits for the requests in flight. */
  stop(): Promise<void>;
}

/**
 * Open-loop traffic: one request every batch/rate seconds whatever the
 * answers (a platform does not slow down because we are in trouble).
 */
export function startTraffic(options: { sender: Sender; traffic: PhaseTraffic; ledger: Ledger; eventsPerSecond: number; onCapReached: () => void }): TrafficRun {
  const { sender, traffic, ledger } = options;
  const tickMs = (traffic.batch / options.eventsPerSecond) * 1000;
  const inFlight = new Set<Promise<unknown>>();
  const started = performance.now();
  let r = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const tick = () => {
    if (stopped) return;
    // Catch up on missed ticks (a busy event loop) so the rate stays what was asked.
    const due = Math.floor((performance.now() - started) / tickMs) + 1;
    while (r < due && r < traffic.maxRequests) {
      const p = send(sender, ledger.add(traffic.request(r++)));
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    if (r >= traffic.maxRequests) return options.onCapReached();
    timer = setTimeout(tick, Math.max(0, started + r * tickMs - performance.now()));
  };
  tick();
  return {
    sent: () => r,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await Promise.all(inFlight);
    },
  };
}

/**
 * Sends every unacknowledged request again with the same ids until it is
 * acknowledged, as a platform's retry queue would. Returns false if some
 * request was still refused at the deadline.
 */
export async function retryUnacked(sender: Sender, ledger: Ledger, deadlineMs: number, concurrency = 4): Promise<boolean> {
  const queue = ledger.unacked();
  for (const q of queue) q.retryFrom ??= q.attempts.length;
  const deadline = Date.now() + deadlineMs;
  const workers = Array.from({ length: concurrency }, async () => {
    for (let q = queue.shift(); q; q = queue.shift()) {
      for (let wait = 250; q.ackedAt === null && Date.now() < deadline; wait = Math.min(wait * 2, 4_000)) {
        if ((await send(sender, q)).outcome !== '202') await new Promise((r) => setTimeout(r, wait));
      }
    }
  });
  await Promise.all(workers);
  return ledger.unacked().length === 0;
}
