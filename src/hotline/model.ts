import { createHash } from 'node:crypto';
import type { Localized } from '../alerts/model.js';
import { COMPLAINT_CATEGORIES } from '../ingest/schema.js';

/**
 * 12345 hotline tickets: complaints and alerts routed to the hotline become
 * work items that staff claim, hand on and close, under SLA deadlines in
 * working time. A ticket's id is derived from where it came from, so a retried
 * job or a repeated alert always lands on the same ticket.
 */
export const TICKET_SOURCES = ['complaint', 'alert'] as const;
export type TicketSource = (typeof TICKET_SOURCES)[number];

/** Lowest first: an SLA breach raises a ticket one step. */
export const PRIORITIES = ['normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const TICKET_STATES = ['new', 'claimed', 'assigned', 'resolved'] as const;
export type TicketState = (typeof TICKET_STATES)[number];

/** Who a ticket is handed to: an agency, the justice bureau (行政执法监督), or discipline inspection (纪检监察). */
export const ASSIGNEE_KINDS = ['agency', 'justice', 'discipline'] as const;
export type AssigneeKind = (typeof ASSIGNEE_KINDS)[number];

export interface Assignee {
  kind: AssigneeKind;
  id: string;
}

export const TICKET_OUTCOMES = ['substantiated', 'unsubstantiated', 'referred', 'withdrawn'] as const;
export type TicketOutcome = (typeof TICKET_OUTCOMES)[number];

/** 回访: what the caller says when called back about how the complaint was handled (满意 / 基本满意 / 不满意). */
export const SATISFACTIONS = ['satisfied', 'basically_satisfied', 'dissatisfied'] as const;
export type Satisfaction = (typeof SATISFACTIONS)[number];

/** The caller of a complaint, for the 回访: only on the ticket, which only the hotline's staff (and admins) read. */
export interface Complainant {
  name: string;
  phone: string;
}

export interface TicketCallback {
  /** RFC 3339. */
  at: string;
  by: string;
  satisfaction: Satisfaction;
  note: string;
}

/**
 * The number people read and say on the phone: 12345-YYYYMMDD-NNNN, the
 * Shanghai date the ticket was opened and its serial that day.
 */
export const ticketNumber = (date: string, serial: number) => `12345-${date.replaceAll('-', '')}-${String(serial).padStart(4, '0')}`;

export const SLA_KINDS = ['accept', 'resolve'] as const;
export type SlaKind = (typeof SLA_KINDS)[number];

export const TICKET_ACTIONS = [
  'opened', 'claimed', 'released', 'assigned', 'categorised', 'note', 'callback', 'resolved', 'reopened', 'sla_breached',
] as const;
export type TicketAction = (typeof TICKET_ACTIONS)[number];

export interface Ticket {
  id: string;
  /** 12345-YYYYMMDD-NNNN; '' for a ticket opened before numbers were given. */
  number: string;
  source: TicketSource;
  /** The complaint event's id or the alert's id. */
  source_id: string;
  alert_id: string | null;
  region: string;
  enterprise_id: string;
  agency_id: string;
  /** A complaint category, a rule id, or 'other'. */
  category: string;
  title: Localized;
  description: string;
  priority: Priority;
  state: TicketState;
  claimed_by: string;
  /** RFC 3339; the claim lapses at this instant unless its holder acts again. */
  claimed_until: string | null;
  assignee: Assignee | null;
  outcome: TicketOutcome | '';
  resolution_note: string;
  created_at: string;
  /** The first claim. */
  accepted_at: string | null;
  accept_due_at: string;
  resolve_due_at: string;
  resolved_at: string | null;
  sla_breaches: SlaKind[];
  complainant: Complainant | null;
  /** The 回访 with the caller, recorded before a complaint's ticket is closed (办结); null until then. */
  callback: TicketCallback | null;
  /** Increases by one with every stored change. */
  revision: number;
  updated_at: string;
}

/** What a source knows about a ticket before it exists. */
export type TicketDraft = Pick<Ticket,
  'source' | 'source_id' | 'alert_id' | 'region' | 'enterprise_id' | 'agency_id' | 'category' | 'title' | 'description' | 'priority'>
  & { complainant?: Complainant | null };

/** One entry of a ticket's history; `revision` is the ticket revision it produced. Notes are changes too. */
export interface TicketChange {
  ticket_id: string;
  revision: number;
  at: string;
  actor: string;
  action: TicketAction;
  from_state: TicketState | '';
  to_state: TicketState;
  priority: Priority;
  note: string;
}

export const ticketId = (source: string, sourceId: string): string =>
  createHash('sha256').update(`${source}\n${sourceId}`).digest('hex').slice(0, 32);

/**
 * A complaint's ticket: one per company and event id. Event ids are their
 * sender's (src/ingest/accept.ts), and a sender writes about companies of its
 * own jurisdiction only, so another region's complaint with the same id is
 * about another company and gets a ticket of its own.
 */
export const complaintTicketId = (complaint: { enterprise_id: string; id: string }): string =>
  ticketId('complaint', `${complaint.enterprise_id}/${complaint.id}`);

/** The ticket a draft opens: a complaint's by its company and id, an alert's by the alert. */
export const draftTicketId = (draft: Pick<TicketDraft, 'source' | 'source_id' | 'enterprise_id'>): string =>
  (draft.source === 'complaint' ? complaintTicketId({ enterprise_id: draft.enterprise_id, id: draft.source_id }) : ticketId(draft.source, draft.source_id));

/** What staff may file a ticket under: the complaint categories, the ids of the rules in force, and other. */
export const ticketCategories = (ruleIds: readonly string[]): string[] => [...new Set([...COMPLAINT_CATEGORIES, ...ruleIds, 'other'])];
