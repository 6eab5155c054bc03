import { createHash } from 'node:crypto';
import type { AlertCandidate } from '../alerts/model.js';
import { addWorkingMinutes, parseWorkingHours, timestamp, workingMinutesPerDay, type WorkingSchedule } from '../calendar/index.js';
import type { Config } from '../config/index.js';
import type { Deadlines } from './lifecycle.js';
import type { SlaKind, Ticket } from './model.js';

/**
 * Service levels of the hotline: a ticket must be accepted (claimed) within
 * HOTLINE_ACCEPT_SLA_MINUTES and resolved within HOTLINE_RESOLVE_SLA_DAYS,
 * both counted in working time; a claim lasts HOTLINE_CLAIM_MINUTES.
 */
export interface HotlineSettings {
  claimMs: number;
  acceptSlaMinutes: number;
  resolveSlaMinutes: number;
  schedule: WorkingSchedule;
}

type HotlineConfig = Pick<Config,
  'HOTLINE_CLAIM_MINUTES' | 'HOTLINE_ACCEPT_SLA_MINUTES' | 'HOTLINE_RESOLVE_SLA_DAYS' | 'HOTLINE_WORKING_HOURS' | 'HOTLINE_ALWAYS_WORKING'>;

/** Throws naming the variable when the office hours are out of order (their format is checked with the rest of the config). */
export function hotlineSettings(config: HotlineConfig): HotlineSettings {
  let schedule: WorkingSchedule;
  try {
    schedule = config.HOTLINE_ALWAYS_WORKING
      ? { alwaysWorking: true }
      : { alwaysWorking: false, periods: parseWorkingHours(config.HOTLINE_WORKING_HOURS) };
  } catch (err) {
    throw new Error(`invalid configuration:\n  HOTLINE_WORKING_HOURS: ${(err as Error).message}`);
  }
  return {
    claimMs: config.HOTLINE_CLAIM_MINUTES * 60_000,
    acceptSlaMinutes: config.HOTLINE_ACCEPT_SLA_MINUTES,
    resolveSlaMinutes: config.HOTLINE_RESOLVE_SLA_DAYS * workingMinutesPerDay(schedule),
    schedule,
  };
}

export function deadlines(from: Date, settings: HotlineSettings): Deadlines {
  return {
    accept_due_at: addWorkingMinutes(from, settings.acceptSlaMinutes, settings.schedule),
    resolve_due_at: resolveDeadline(from, settings),
  };
}

export const resolveDeadline = (from: Date, settings: HotlineSettings): Date =>
  addWorkingMinutes(from, settings.resolveSlaMinutes, settings.schedule);

export const SLA_RULE_ID = 'hotline-sla';

const WORDING: Record<SlaKind, { title: { zh: string; en: string }; zh: string; en: string }> = {
  accept: { title: { zh: '12345工单超时未受理', en: 'Hotline ticket not accepted in time' }, zh: '应于{due}前受理，至今无人受理', en: 'was due to be accepted by {due} and nobody has claimed it' },
  resolve: { title: { zh: '12345工单超时未办结', en: 'Hotline ticket not resolved in time' }, zh: '应于{due}前办结，至今未办结', en: 'was due to be resolved by {due} and is still open' },
};

/** The feed alert a missed deadline raises: one per ticket and kind of deadline, however often its timer runs. */
export function slaAlert(ticket: Ticket, kind: SlaKind): AlertCandidate {
  const dueAt = kind === 'accept' ? ticket.accept_due_at : ticket.resolve_due_at;
  const due = timestamp(Date.parse(dueAt));
  const wording = WORDING[kind];
  return {
    fingerprint: createHash('sha256').update(`${SLA_RULE_ID}\n${ticket.id}\n${kind}`).digest('hex').slice(0, 32),
    rule_id: SLA_RULE_ID,
    rule_version: 1,
    variant: kind,
    severity: 'high',
    mode: 'active',
    channels: ['feed'],
    title: wording.title,
    message: {
      zh: `12345工单「${ticket.title.zh}」（${ticket.id}）${wording.zh.replace('{due}', due)}`,
      en: `Hotline ticket "${ticket.title.en}" (${ticket.id}) ${wording.en.replace('{due}', due)}`,
    },
    region: ticket.region,
    enterprise_id: ticket.enterprise_id,
    agency_id: ticket.agency_id,
    officer_ids: [],
    window_start: ticket.created_at,
    window_end: dueAt,
    anchor_at: dueAt,
    first_seen_at: dueAt,
    last_seen_at: dueAt,
    count: 1,
    evidence: [],
    figures: { ticket_id: ticket.id, sla: kind, created_at: ticket.created_at, due_at: dueAt, category: ticket.category, source: ticket.source },
    params: {},
  };
}
