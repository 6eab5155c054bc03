import type { TicketDraft, SlaKind } from '../hotline/model.js';
import type { Event } from '../ingest/schema.js';

/** What one job of each queue carries (src/queues/registry.ts pairs them with their queues). */

/** `store`: one accepted request's events (or several coalesced requests'), as validated. */
export interface Envelope {
  received_at: string;
  events: Event[];
}

/** A company whose events changed, and the event-time span they influence (epoch ms). */
export interface Change {
  enterprise_id: string;
  from: number;
  to: number;
  event_ids: string[];
  /** The region the events name: which rules hold for a company not registered yet. */
  region?: string;
  /** The events' types (absent for a deferred decision: then anything may have changed). */
  types?: string[];
}

/** `evaluate`: one job per stored batch, plus delayed decisions at their deadlines. */
export type EvaluateJob =
  | { kind: 'batch'; changes: Change[] }
  | { kind: 'decide'; enterprise_id: string; anchor: number; at: number };

/** `escalation`: a timer on an open alert. */
export interface EscalationJob {
  alert_id: string;
  /** The level the alert must still be at when the timer fires. */
  escalation: number;
}

/** `planCheck`: a filed plan to check as it stands, keeping the result. */
export interface PlanCheckJob {
  plan_id: string;
  /** The companies to check it for: those the filed version names, or those it shares with the plan that named it. */
  enterprise_ids: string[];
  /** Whether the plans it names as merge candidates are to be checked again too (a plan just filed or merged away). */
  neighbours: boolean;
}

/** `hotline`: opening tickets, SLA deadlines and claim leases. */
export type HotlineJob =
  | { kind: 'open'; draft: TicketDraft }
  | { kind: 'sla'; ticket_id: string; sla: SlaKind; due_at: string }
  | { kind: 'claim-lapse'; ticket_id: string; claimed_until: string };
