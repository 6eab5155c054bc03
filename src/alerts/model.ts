/**
 * Alerts as the engine computes them (candidates) and as they are stored
 * (with a lifecycle). An alert's id is its fingerprint: a hash of rule,
 * correlation key and window, so a retry, a replay or a repeated match always
 * lands on the same record.
 */
/** Lowest first. `advice` is not a breach: a suggestion to the office that coordinates inspections (plan-overlap). */
export const SEVERITIES = ['advice', 'info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const CHANNELS = ['feed', 'hotline'] as const;
export type Channel = (typeof CHANNELS)[number];

/** Shadow alerts are evaluated and stored but notify nobody: how a city tries a rule out. */
/** active: pushed to people; shadow: a rule on trial, stored only; record: an entry listed for review afterwards (事后追溯核查), never pushed. */
export const ALERT_MODES = ['active', 'shadow', 'record'] as const;
export type AlertMode = (typeof ALERT_MODES)[number];

export const ALERT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** How a person closes an alert. */
export const RESOLUTION_CODES = ['confirmed', 'justified', 'false_positive', 'data_error'] as const;
export type ResolutionCode = (typeof RESOLUTION_CODES)[number];
/** How the system closes one: late evidence removed its cause. */
export const CLEARED = 'cleared';
export type Resolution = ResolutionCode | typeof CLEARED | '';

export const SYSTEM_ACTOR = 'system';

export interface Localized {
  zh: string;
  en: string;
}

/** One event behind an alert and the part it plays. */
export interface Evidence {
  event_id: string;
  type: string;
  /** RFC 3339 (UTC). */
  occurred_at: string;
  /** e.g. trigger, counted, weak_match, exemption. */
  role: string;
  /** For rules that count visits: which counted visit (1, 2, …) the event belongs to. */
  visit?: number;
}

export type Figures = Record<string, string | number | boolean | null>;

/** What one evaluation concludes: a pure function of the events and the rule. */
export interface AlertCandidate {
  fingerprint: string;
  rule_id: string;
  rule_version: number;
  /** '' for the rule's main alert, else the variant's id (e.g. manual_checkin, late_plan). */
  variant: string;
  severity: Severity;
  mode: AlertMode;
  channels: Channel[];
  title: Localized;
  message: Localized;
  region: string;
  enterprise_id: string;
  agency_id: string;
  officer_ids: string[];
  /** The span searched or counted (RFC 3339). */
  window_start: string;
  window_end: string;
  /** The instant the fingerprint is anchored at: the trigger, an episode's start or a period's start. */
  anchor_at: string;
  /** Event times of the earliest and latest evidence. */
  first_seen_at: string;
  last_seen_at: string;
  /** Matches behind the alert (visits counted, inspections over the cap, ...). */
  count: number;
  evidence: Evidence[];
  /** The computed figures, e.g. { visits: 5, threshold: 4 }. */
  figures: Figures;
  /** The parameters in force for this region. */
  params: Record<string, unknown>;
}

export interface Alert extends AlertCandidate {
  id: string;
  status: AlertStatus;
  resolution: Resolution;
  resolution_note: string;
  resolved_by: string;
  resolved_at: string | null;
  acknowledged_by: string;
  acknowledged_at: string | null;
  /** Wall-clock times (RFC 3339). */
  raised_at: string;
  updated_at: string;
  /** Ids of the silences that matched when this revision was decided: stored, not pushed. */
  silenced_by: string[];
  /** The alert that inhibits this one (e.g. the annual-cap alert for the same company, agency and year), or ''. */
  inhibited_by: string;
  /** Times the alert was re-sent with raised priority because nobody acknowledged it in time. */
  escalation: number;
  /** Increases by one with every stored change. */
  revision: number;
}

export const ALERT_ACTIONS = ['raised', 'updated', 'cleared', 'reraised', 'acknowledged', 'resolved', 'reopened', 'escalated'] as const;
export type AlertAction = (typeof ALERT_ACTIONS)[number];

/** One entry of an alert's history; `revision` matches the alert revision it produced. */
export interface AlertChange {
  alert_id: string;
  revision: number;
  at: string;
  actor: string;
  action: AlertAction;
  from_status: AlertStatus | '';
  to_status: AlertStatus;
  note: string;
}
