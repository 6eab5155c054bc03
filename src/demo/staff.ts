import { authorization, type DemoApi } from './api.js';
import type { Alert, ResolutionCode } from '../alerts/model.js';
import { HOUR, startOfDay } from '../calendar/index.js';
import type { Assignee, Ticket, TicketOutcome } from '../hotline/model.js';
import type { Logger } from '../log.js';
import { governmentOf } from './catalogue.js';
import { createRandom, type Random } from './random.js';

/**
 * Simulated people for the demo: discipline-commission staff who work the
 * alert list and 12345 staff who work the ticket queue, through the same HTTP
 * API the console uses. Each round moves only a share of every pile on, so
 * open alerts, acknowledged ones, new tickets and claimed ones all stay visible.
 * Every person acts with their own token (made with the demo's admin token when
 * the staff start), so the audit log names people, as it would in a real office.
 */
export interface StaffRound {
  acknowledged: number;
  resolved: number;
  /** Of `resolved`, those closed as false_positive. */
  falsePositives: number;
  claimed: number;
  assigned: number;
  ticketsResolved: number;
  /** Actions refused with 409 or 503: someone else got there first, or the item was busy; left for a later round. */
  conflicts: number;
  /** Open alerts listed that nobody acknowledged this round. */
  alertsLeftOpen: number;
  /** New tickets listed that nobody claimed this round. */
  ticketsLeftWaiting: number;
}

/** What a round looks at: the API's lists as they stood when it started. */
export interface StaffWork {
  openAlerts: Alert[];
  acknowledgedAlerts: Alert[];
  /** Every ticket that is not resolved. */
  tickets: Ticket[];
}

export type StaffAction =
  | { kind: 'ack'; id: string; actor: string; note: string }
  | { kind: 'resolve'; id: string; actor: string; code: ResolutionCode; note: string }
  | { kind: 'claim'; id: string; actor: string }
  | { kind: 'assign'; id: string; actor: string; to: Assignee; note: string }
  | { kind: 'resolve-ticket'; id: string; actor: string; outcome: TicketOutcome; note: string };

// Shares of each pile moved on per round, and caps, so a month of backlog is
// worked off over many rounds instead of in one burst of requests.
const ACK_SHARE = 0.3;
const ACK_MAX = 12;
const RESOLVE_SHARE = 0.4;
const RESOLVE_MAX = 10;
/** Of the alerts resolved, this share turns out to be false positives. */
const FALSE_POSITIVE_SHARE = 0.2;
const CLAIM_SHARE = 0.3;
const CLAIM_MAX = 6;
const ADVANCE_SHARE = 0.5;
const ADVANCE_MAX = 6;
/** A claimed ticket the holder moves on is mostly handed to someone; the rest are closed at once. */
const ASSIGN_SHARE = 0.7;
/** Of the tickets handed on (misconduct aside), this share goes to the justice bureau's oversight, the rest back to the agency. */
const JUSTICE_SHARE = 0.3;
/** Listing stops here: a round works from the first pages (newest alerts, head of the queue), not a whole backlog. */
const MAX_LISTED = 2_000;
const PAGE = 500;
/** A hung API fails the round (and is retried next round) instead of holding up the demo's stop for ever. */
const REQUEST_TIMEOUT_MS = 30_000;

const UNITS = { discipline: '纪委监委', hotline: '12345热线' } as const;
const ROSTER = {
  day: { discipline: ['张伟', '王芳', '李娜', '刘洋'], hotline: ['赵敏', '孙丽', '周杰', '吴磊'] },
  night: { discipline: ['陈静', '杨帆'], hotline: ['郑爽', '何琳'] },
};
/** The demo's people by role: whoever took an item finishes it, whatever the shift; what a person took in the console is left to them. */
export const DEMO_STAFF = {
  discipline: new Set([...ROSTER.day.discipline, ...ROSTER.night.discipline]),
  hotline: new Set([...ROSTER.day.hotline, ...ROSTER.night.hotline]),
};
const ALERT_STAFF = DEMO_STAFF.discipline;
const TICKET_STAFF = DEMO_STAFF.hotline;

const ACK_NOTES = ['已接收，正在核实', '已联系执法单位了解情况', '已调取扫码记录核查', '已转监督检查室跟进'];
const RESOLVE_NOTES: Record<'confirmed' | 'false_positive', string[]> = {
  confirmed: ['经核查属实，已责令执法单位整改', '情况属实，已约谈相关执法人员', '已督促执法单位补办报备手续'],
  false_positive: ['经核查为误报：检查计划已线下报备', '经核查为误报：扫码记录延迟上传', '经核查为误报：企业信息登记有误'],
};
const OUTCOMES: readonly (readonly [TicketOutcome, number])[] = [['substantiated', 35], ['unsubstantiated', 35], ['referred', 20], ['withdrawn', 10]];
const OUTCOME_NOTES: Record<TicketOutcome, string> = {
  substantiated: '经查属实，已督促整改并回复企业',
  unsubstantiated: '经核查情况不属实，已向企业说明',
  referred: '已移交相关部门依法处理并告知企业',
  withdrawn: '企业来电撤回诉求',
};
const ASSIGNEE_NAMES: Record<Assignee['kind'], string> = { agency: '执法部门', justice: '司法局执法监督科', discipline: '纪委监委' };

/** One pass of every person on duty: read the lists, decide, act. */
export async function staffRound(api: DemoApi, random: Random, now = new Date()): Promise<StaffRound> {
  const work = await readWork(api);
  return carryOut(api, work, planRound(work, random, now));
}

/** Performs the actions in order; one refused because the item moved on since `work` was read is counted, not thrown. */
export async function carryOut(api: DemoApi, work: StaffWork, actions: readonly StaffAction[]): Promise<StaffRound> {
  const round: StaffRound = {
    acknowledged: 0, resolved: 0, falsePositives: 0, claimed: 0, assigned: 0, ticketsResolved: 0, conflicts: 0,
    alertsLeftOpen: work.openAlerts.length - actions.filter((a) => a.kind === 'ack').length,
    ticketsLeftWaiting: work.tickets.filter((t) => t.state === 'new').length - actions.filter((a) => a.kind === 'claim').length,
  };
  for (const action of actions) {
    if (!(await perform(api, action))) {
      round.conflicts++;
      continue;
    }
    switch (action.kind) {
      case 'ack':
        round.acknowledged++;
        break;
      case 'resolve':
        round.resolved++;
        if (action.code === 'false_positive') round.falsePositives++;
        break;
      case 'claim':
        round.claimed++;
        break;
      case 'assign':
        round.assigned++;
        break;
      case 'resolve-ticket':
        round.ticketsResolved++;
        break;
    }
  }
  return round;
}

/**
 * The decisions of a round, a pure function of what is listed, the random
 * stream and the clock. Items are taken in id order, so the server's listing
 * order (e.g. tickets created in the same millisecond) cannot change a choice.
 */
export function planRound(work: StaffWork, random: Random, now: Date): StaffAction[] {
  const shift = onShift(now);
  const actions: StaffAction[] = [];

  // Only alerts acknowledged by the demo staff: one a person acknowledged in the console is theirs to close.
  const ours = byId(work.acknowledgedAlerts).filter((a) => ALERT_STAFF.has(a.acknowledged_by));
  const closing = random.sample(ours, share(ours.length, RESOLVE_SHARE, RESOLVE_MAX));
  const falsePositives = Math.round(closing.length * FALSE_POSITIVE_SHARE);
  closing.forEach((alert, i) => {
    const code = i < falsePositives ? 'false_positive' : 'confirmed';
    actions.push({ kind: 'resolve', id: alert.id, actor: alert.acknowledged_by, code, note: random.pick(RESOLVE_NOTES[code]) });
  });

  const open = byId(work.openAlerts);
  for (const alert of random.sample(open, share(open.length, ACK_SHARE, ACK_MAX))) {
    actions.push({ kind: 'ack', id: alert.id, actor: random.pick(shift.discipline), note: random.pick(ACK_NOTES) });
  }

  const held = byId(work.tickets).filter((t) => t.state !== 'new' && TICKET_STAFF.has(t.claimed_by));
  for (const ticket of random.sample(held, share(held.length, ADVANCE_SHARE, ADVANCE_MAX))) {
    if (ticket.state === 'claimed' && random.chance(ASSIGN_SHARE)) {
      const to = assignee(ticket, random);
      actions.push({ kind: 'assign', id: ticket.id, actor: ticket.claimed_by, to, note: `转办至${ASSIGNEE_NAMES[to.kind]}（${to.id}）` });
    } else {
      const outcome = random.weighted(OUTCOMES);
      actions.push({ kind: 'resolve-ticket', id: ticket.id, actor: ticket.claimed_by, outcome, note: OUTCOME_NOTES[outcome] });
    }
  }

  const waiting = byId(work.tickets).filter((t) => t.state === 'new');
  for (const ticket of random.sample(waiting, share(waiting.length, CLAIM_SHARE, CLAIM_MAX))) {
    actions.push({ kind: 'claim', id: ticket.id, actor: random.pick(shift.hotline) });
  }
  return actions;
}

/** Rounded down, so a pile of one stays where it is and every state keeps showing. */
const share = (count: number, fraction: number, max: number) => Math.min(Math.floor(count * fraction), max);

const byId = <T extends { id: string }>(items: readonly T[]): T[] => [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

/** A smaller night shift (20:00–08:00 Shanghai time). */
function onShift(now: Date) {
  const hour = Math.floor((now.getTime() - startOfDay(now.getTime())) / HOUR);
  return hour >= 8 && hour < 20 ? ROSTER.day : ROSTER.night;
}

/**
 * Misconduct goes to discipline inspection; a complaint naming no agency can only go to the justice bureau.
 * Both are the units of the government whose agencies inspect there: 德州市's, or 云和县's in 云和.
 */
function assignee(ticket: Ticket, random: Random): Assignee {
  const government = governmentOf(ticket.region)?.code ?? `${ticket.region.slice(0, 4)}00`;
  if (ticket.category === 'misconduct') return { kind: 'discipline', id: `${government}-JWJW` };
  if (ticket.agency_id === '' || random.chance(JUSTICE_SHARE)) return { kind: 'justice', id: `${government}-SFJ` };
  return { kind: 'agency', id: ticket.agency_id };
}

export async function readWork(api: DemoApi): Promise<StaffWork> {
  const [openAlerts, acknowledgedAlerts, tickets] = await Promise.all([
    listAll<Alert>(api, '/v1/alerts', { status: 'open', mode: 'active' }),
    listAll<Alert>(api, '/v1/alerts', { status: 'acknowledged', mode: 'active' }),
    // Without a state filter the queue lists every ticket that is not resolved.
    listAll<Ticket>(api, '/v1/hotline/tickets', {}),
  ]);
  return { openAlerts, acknowledgedAlerts, tickets };
}

async function listAll<T>(api: DemoApi, path: string, filters: Record<string, string>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ ...filters, limit: String(PAGE), ...(cursor ? { cursor } : {}) });
    const page = `${api.url}${path}?${query}`;
    const res = await fetch(page, { headers: authorization(api), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`GET ${page}: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { items: T[]; next_cursor: string | null };
    items.push(...body.items);
    cursor = body.next_cursor;
  } while (cursor && items.length < MAX_LISTED);
  return items;
}

/**
 * Each person's own token, made once per service and admin token (the staff's start makes them): name, unit
 * and role, so the service records who acted. Tokens are 256 random bits and live only in this process.
 */
const personTokens = new Map<string, Promise<Map<string, string>>>();

export function staffTokens(api: DemoApi): Promise<Map<string, string>> {
  const key = `${api.url} ${api.token}`;
  let made = personTokens.get(key);
  if (!made) {
    made = makeStaffTokens(api);
    personTokens.set(key, made);
    made.catch(() => personTokens.delete(key));
  }
  return made;
}

async function makeStaffTokens(api: DemoApi): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  for (const role of ['discipline', 'hotline'] as const) {
    for (const name of DEMO_STAFF[role]) {
      const res = await fetch(`${api.url}/v1/tokens`, {
        method: 'POST', headers: { 'content-type': 'application/json', ...authorization(api) },
        body: JSON.stringify({ name, unit: UNITS[role], role }), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (!res.ok) throw new Error(`POST /v1/tokens for ${name}: ${res.status} ${await res.text()}`);
      tokens.set(name, ((await res.json()) as { token: string }).token);
    }
  }
  return tokens;
}

/** True when the action took effect; false when someone else's action or a busy lock got in the way. */
async function perform(api: DemoApi, action: StaffAction): Promise<boolean> {
  const { kind, id, actor, ...body } = action;
  const token = (await staffTokens(api)).get(actor);
  if (!token) throw new Error(`${actor} is not one of the demo's staff`);
  const path = {
    ack: `/v1/alerts/${id}/ack`,
    resolve: `/v1/alerts/${id}/resolve`,
    claim: `/v1/hotline/tickets/${id}/claim`,
    assign: `/v1/hotline/tickets/${id}/assign`,
    'resolve-ticket': `/v1/hotline/tickets/${id}/resolve`,
  }[kind];
  const res = await fetch(`${api.url}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...authorization({ ...api, token }) }, body: JSON.stringify(body), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  if (res.ok) return true;
  const text = await res.text();
  if (res.status === 409 || res.status === 503) return false;
  throw new Error(`POST ${path}: ${res.status} ${text}`);
}

export interface DemoStaffOptions {
  api: DemoApi;
  seed: number;
  log: Logger;
  /** Pause between rounds (default 20 s). */
  everyMs?: number;
}

// Not createRandom(seed) itself: that stream already generates the world, and the staff should not echo it.
const STAFF_STREAM = 0x51a7f;

/** Runs a round every `everyMs` until stopped; the stop waits for the round under way. */
export function startDemoStaff(options: DemoStaffOptions): () => Promise<void> {
  const { api, log, everyMs = 20_000 } = options;
  const random = createRandom(options.seed ^ STAFF_STREAM);
  let stopped = false;
  let current: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout;
  // The people's tokens are made at the start; a failure is tried again, and reported, by the first round.
  current = staffTokens(api).then(() => undefined, () => undefined);
  const tick = () => {
    current = staffRound(api, random).then(
      (round) => log.info(round, 'demo staff round'),
      (err: Error) => log.warn({ err: err.message }, 'demo staff round failed; trying again next round'),
    ).finally(() => {
      if (!stopped) timer = setTimeout(tick, everyMs);
    });
  };
  timer = setTimeout(tick, everyMs);
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await current;
  };
}
