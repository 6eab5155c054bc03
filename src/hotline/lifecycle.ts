import { SYSTEM_ACTOR } from '../alerts/model.js';
import {
  draftTicketId, PRIORITIES,
  type Assignee, type Satisfaction, type TicketOutcome, type SlaKind, type Ticket, type TicketAction, type TicketChange, type TicketDraft, type TicketState,
} from './model.js';

/**
 * The ticket lifecycle as pure functions: a ticket and an action in, the next
 * revision and its history entry out. The store applies them under the
 * ticket's lock to the freshly read ticket, so two people can never both win.
 *
 * A claim is a lease: its holder's actions renew it, and once it runs out the
 * ticket counts as unclaimed again (`lapse` records that, by `system`).
 */
export interface TicketRevision {
  ticket: Ticket;
  change: TicketChange;
}

/** 409: the action does not apply to the ticket as it is. Names the claim's holder when that is the obstacle. */
export class TicketConflict extends Error {
  constructor(message: string, readonly claimedBy?: string) {
    super(message);
    this.name = 'TicketConflict';
  }
}

export interface Deadlines {
  accept_due_at: Date;
  resolve_due_at: Date;
}

export function openTicket(draft: TicketDraft, createdAt: Date, due: Deadlines, number = ''): TicketRevision {
  const at = createdAt.toISOString();
  const ticket: Ticket = {
    ...draft,
    id: draftTicketId(draft),
    number,
    complainant: draft.complainant ?? null,
    state: 'new',
    claimed_by: '',
    claimed_until: null,
    assignee: null,
    outcome: '',
    resolution_note: '',
    created_at: at,
    accepted_at: null,
    accept_due_at: due.accept_due_at.toISOString(),
    resolve_due_at: due.resolve_due_at.toISOString(),
    resolved_at: null,
    sla_breaches: [],
    callback: null,
    revision: 1,
    updated_at: at,
  };
  return { ticket, change: change(ticket, '', 'opened', SYSTEM_ACTOR, '') };
}

/** Whether someone holds a claim that has not run out at `now`. */
export const claimIsLive = (ticket: Ticket, now: Date): boolean =>
  ticket.claimed_by !== '' && ticket.claimed_until !== null && Date.parse(ticket.claimed_until) > now.getTime();

/** A claim that ran out and has not been released yet. */
export const claimLapsed = (ticket: Ticket, now: Date): boolean => ticket.claimed_by !== '' && !claimIsLive(ticket, now);

/** The ticket as it stands at `now`: a lapsed claim counts as none, whether or not its release is recorded yet. */
export const asOf = (ticket: Ticket, now: Date): Ticket => (claimLapsed(ticket, now) ? { ...ticket, ...unclaimed(ticket) } : ticket);

/** Records that an abandoned claim returned the ticket to the queue. */
export function lapse(ticket: Ticket, now: Date): TicketRevision {
  if (!claimLapsed(ticket, now)) throw new TicketConflict('the claim has not lapsed');
  return revise(ticket, unclaimed(ticket), 'released', SYSTEM_ACTOR, `claim by ${ticket.claimed_by} lapsed at ${ticket.claimed_until}`, now);
}

export function claim(ticket: Ticket, actor: string, now: Date, leaseMs: number): TicketRevision {
  refuseResolved(ticket, 'claimed');
  refuseOtherHolder(ticket, actor, now);
  return revise(ticket, {
    state: ticket.state === 'new' ? 'claimed' : ticket.state,
    claimed_by: actor,
    claimed_until: lease(now, leaseMs),
    accepted_at: ticket.accepted_at ?? now.toISOString(),
  }, 'claimed', actor, '', now);
}

export function release(ticket: Ticket, actor: string, note: string, now: Date): TicketRevision {
  if (!claimIsLive(ticket, now)) throw new TicketConflict('ticket is not claimed');
  refuseOtherHolder(ticket, actor, now);
  return revise(ticket, unclaimed(ticket), 'released', actor, note, now);
}

export function assign(ticket: Ticket, actor: string, to: Assignee, note: string, now: Date, leaseMs: number): TicketRevision {
  requireHolder(ticket, actor, now, 'assigning');
  return revise(ticket, { state: 'assigned', assignee: to, claimed_until: lease(now, leaseMs) }, 'assigned', actor,
    note || `assigned to ${to.kind} ${to.id}`, now);
}

export function categorise(ticket: Ticket, actor: string, category: string, note: string, now: Date, leaseMs: number): TicketRevision {
  refuseOtherHolder(ticket, actor, now);
  if (ticket.category === category) throw new TicketConflict(`ticket is already in category ${category}`);
  return revise(ticket, { category, ...renewal(ticket, actor, now, leaseMs) }, 'categorised', actor,
    note || `${ticket.category} → ${category}`, now);
}

/** Anyone may add a note, holder or not; the holder's note renews the claim. */
export function addNote(ticket: Ticket, actor: string, text: string, now: Date, leaseMs: number): TicketRevision {
  return revise(ticket, renewal(ticket, actor, now, leaseMs), 'note', actor, text, now);
}

/** 回访: the holder records the caller's satisfaction with how the complaint was handled. */
export function recordCallback(ticket: Ticket, actor: string, satisfaction: Satisfaction, note: string, now: Date, leaseMs: number): TicketRevision {
  requireHolder(ticket, actor, now, 'recording the callback');
  return revise(ticket, {
    callback: { at: now.toISOString(), by: actor, satisfaction, note }, claimed_until: lease(now, leaseMs),
  }, 'callback', actor, note || satisfaction, now);
}

export function resolve(ticket: Ticket, actor: string, outcome: TicketOutcome, note: string, now: Date): TicketRevision {
  requireHolder(ticket, actor, now, 'resolving');
  // 12345 practice: a caller's complaint is closed only after the caller was called back (回访) and said how satisfied they are.
  if (ticket.source === 'complaint' && ticket.callback === null) {
    throw new TicketConflict('a complaint ticket is resolved only after its callback (回访) records the caller\'s satisfaction');
  }
  return revise(ticket, {
    state: 'resolved', outcome, resolution_note: note, resolved_at: now.toISOString(), claimed_by: '', claimed_until: null,
  }, 'resolved', actor, note, now);
}

/** A reopened ticket goes back to the queue with a fresh resolve deadline; the missed one stays in its history. */
export function reopen(ticket: Ticket, actor: string, note: string, now: Date, resolveDueAt: Date): TicketRevision {
  if (ticket.state !== 'resolved') throw new TicketConflict(`ticket is ${ticket.state}; only a resolved ticket can be reopened`);
  return revise(ticket, {
    state: 'new', outcome: '', resolution_note: '', resolved_at: null, callback: null,
    resolve_due_at: resolveDueAt.toISOString(), sla_breaches: ticket.sla_breaches.filter((k) => k !== 'resolve'),
  }, 'reopened', actor, note, now);
}

/**
 * Whether the deadline a timer was set for was missed: the ticket is still
 * not accepted (or not resolved), the deadline is still the one in force (a
 * reopen sets a new one) and the breach is not recorded yet (timers retry).
 */
export function slaMissed(ticket: Ticket, kind: SlaKind, dueAt: string): boolean {
  if (ticket.sla_breaches.includes(kind)) return false;
  return kind === 'accept'
    ? ticket.accepted_at === null && ticket.accept_due_at === dueAt
    : ticket.state !== 'resolved' && ticket.resolve_due_at === dueAt;
}

/** A missed deadline raises the ticket's priority one step and is recorded. */
export function breachSla(ticket: Ticket, kind: SlaKind, now: Date): TicketRevision {
  const dueAt = kind === 'accept' ? ticket.accept_due_at : ticket.resolve_due_at;
  const priority = PRIORITIES[Math.min(PRIORITIES.indexOf(ticket.priority) + 1, PRIORITIES.length - 1)]!;
  return revise(ticket, { priority, sla_breaches: [...ticket.sla_breaches, kind] }, 'sla_breached', SYSTEM_ACTOR,
    `${kind} deadline ${dueAt} missed`, now);
}

const lease = (now: Date, leaseMs: number) => new Date(now.getTime() + leaseMs).toISOString();

const unclaimed = (ticket: Ticket): Partial<Ticket> => ({
  state: ticket.state === 'claimed' ? 'new' : ticket.state, claimed_by: '', claimed_until: null,
});

const renewal = (ticket: Ticket, actor: string, now: Date, leaseMs: number): Partial<Ticket> =>
  (claimIsLive(ticket, now) && ticket.claimed_by === actor ? { claimed_until: lease(now, leaseMs) } : {});

function refuseResolved(ticket: Ticket, doing: string): void {
  if (ticket.state === 'resolved') throw new TicketConflict(`ticket is resolved; reopen it before it can be ${doing}`);
}

function refuseOtherHolder(ticket: Ticket, actor: string, now: Date): void {
  if (claimIsLive(ticket, now) && ticket.claimed_by !== actor) {
    throw new TicketConflict(`ticket is claimed by ${ticket.claimed_by} until ${ticket.claimed_until}`, ticket.claimed_by);
  }
}

function requireHolder(ticket: Ticket, actor: string, now: Date, doing: string): void {
  refuseResolved(ticket, doing === 'assigning' ? 'assigned' : 'resolved again');
  refuseOtherHolder(ticket, actor, now);
  if (!claimIsLive(ticket, now)) throw new TicketConflict(`claim the ticket before ${doing} it`);
}

function revise(ticket: Ticket, patch: Partial<Ticket>, action: TicketAction, actor: string, note: string, now: Date): TicketRevision {
  const next: Ticket = { ...ticket, ...patch, updated_at: now.toISOString(), revision: ticket.revision + 1 };
  return { ticket: next, change: change(next, ticket.state, action, actor, note) };
}

function change(ticket: Ticket, from: TicketState | '', action: TicketAction, actor: string, note: string): TicketChange {
  return {
    ticket_id: ticket.id, revision: ticket.revision, at: ticket.updated_at, actor, action,
    from_state: from, to_state: ticket.state, priority: ticket.priority, note,
  };
}
