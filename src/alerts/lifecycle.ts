import {
  CLEARED, SYSTEM_ACTOR,
  type Alert, type AlertAction, type AlertCandidate, type AlertChange, type AlertStatus, type ResolutionCode,
} from './model.js';

/**
 * The alert lifecycle as pure functions: what the engine's conclusions and
 * people's actions do to stored alerts. The store persists their output; the
 * rule test runner replays them in memory, so both follow one set of rules.
 */
export interface Revision {
  alert: Alert;
  change: AlertChange;
}

/** Where one evaluation looked: alerts of this rule and company anchored in [from, to] were re-decided. */
export interface Scope {
  rule_id: string;
  enterprise_id: string;
  from: number;
  to: number;
}

export class TransitionError extends Error {}

/**
 * Compares fresh conclusions with stored alerts. New ones are raised; changed
 * evidence updates an alert (however often it repeats, one record per
 * fingerprint); an open alert the evaluation no longer supports is cleared
 * with the reason, and raised again if a later evaluation supports it.
 */
export function reconcile(
  stored: ReadonlyMap<string, Alert>,
  candidates: readonly AlertCandidate[],
  scopes: readonly Scope[],
  now: Date,
  reason: string,
): Revision[] {
  const out: Revision[] = [];
  const fresh = new Set<string>();
  for (const candidate of candidates) {
    fresh.add(candidate.fingerprint);
    const alert = stored.get(candidate.fingerprint);
    if (!alert) out.push(raise(candidate, now));
    else if (alert.resolution === CLEARED) out.push(revise(alert, { ...candidate, ...reopened() }, 'reraised', now, reason));
    else if (changed(alert, candidate)) out.push(revise(alert, candidate, 'updated', now, ''));
  }
  for (const alert of stored.values()) {
    if (fresh.has(alert.id) || alert.status === 'resolved' || !inScope(alert, scopes)) continue;
    out.push(revise(alert, {
      status: 'resolved', resolution: CLEARED, resolved_by: SYSTEM_ACTOR, resolved_at: now.toISOString(), resolution_note: reason,
    }, 'cleared', now, reason));
  }
  return out;
}

export function acknowledge(alert: Alert, actor: string, note: string, now: Date): Revision {
  if (alert.status !== 'open') throw new TransitionError(`alert is ${alert.status}; only an open alert can be acknowledged`);
  return revise(alert, { status: 'acknowledged', acknowledged_by: actor, acknowledged_at: now.toISOString() }, 'acknowledged', now, note, actor);
}

export function resolve(alert: Alert, code: ResolutionCode, actor: string, note: string, now: Date): Revision {
  if (alert.status === 'resolved') throw new TransitionError('alert is already resolved');
  return revise(alert, {
    status: 'resolved', resolution: code, resolved_by: actor, resolved_at: now.toISOString(), resolution_note: note,
  }, 'resolved', now, note, actor);
}

export function reopen(alert: Alert, actor: string, note: string, now: Date): Revision {
  if (alert.status !== 'resolved') throw new TransitionError(`alert is ${alert.status}; only a resolved alert can be reopened`);
  return revise(alert, reopened(), 'reopened', now, note, actor);
}

/**
 * Re-sends an open alert nobody acknowledged in time, one priority level up.
 * `expected` is the level the timer was set for: a timer that finds the alert
 * acknowledged, closed or already escalated past it does nothing.
 */
export function escalate(alert: Alert, expected: number, now: Date): Revision {
  if (alert.status !== 'open') throw new TransitionError(`alert is ${alert.status}; only an open alert escalates`);
  if (alert.escalation !== expected) throw new TransitionError(`alert is at escalation ${alert.escalation}, not ${expected}`);
  return revise(alert, { escalation: alert.escalation + 1 }, 'escalated', now, 'not acknowledged in time');
}

const reopened = () => ({
  status: 'open' as AlertStatus, resolution: '' as const, resolved_by: '', resolved_at: null, resolution_note: '',
  acknowledged_by: '', acknowledged_at: null, escalation: 0,
});

function raise(candidate: AlertCandidate, now: Date): Revision {
  const at = now.toISOString();
  const alert: Alert = {
    ...candidate,
    id: candidate.fingerprint,
    ...reopened(),
    silenced_by: [],
    inhibited_by: '',
    raised_at: at,
    updated_at: at,
    revision: 1,
  };
  return { alert, change: change(alert, '', 'raised', SYSTEM_ACTOR, '') };
}

function revise(alert: Alert, patch: Partial<Alert>, action: AlertAction, now: Date, note: string, actor = SYSTEM_ACTOR): Revision {
  const next: Alert = { ...alert, ...patch, id: alert.id, raised_at: alert.raised_at, updated_at: now.toISOString(), revision: alert.revision + 1 };
  return { alert: next, change: change(next, alert.status, action, actor, note) };
}

function change(alert: Alert, from: AlertStatus | '', action: AlertAction, actor: string, note: string): AlertChange {
  return { alert_id: alert.id, revision: alert.revision, at: alert.updated_at, actor, action, from_status: from, to_status: alert.status, note };
}

/** Did the evidence or its reading change? Re-deciding the same facts must write nothing (times are toISOString() on both sides). */
function changed(alert: Alert, candidate: AlertCandidate): boolean {
  // What differs here differs in the key below: an alert growing with every batch (a company's thousands of check-ins
  // in a day) is not sorted and stringified twice per evaluation to find that out (docs/performance.md).
  if (alert.count !== candidate.count || alert.last_seen_at !== candidate.last_seen_at || alert.evidence.length !== candidate.evidence.length) return true;
  const key = (a: AlertCandidate) => JSON.stringify([
    a.rule_version, a.variant, a.severity, a.mode, a.channels, a.count, a.region, a.agency_id, a.officer_ids,
    a.window_start, a.window_end, a.first_seen_at, a.last_seen_at, [...a.evidence].sort((x, y) => (x.event_id < y.event_id ? -1 : 1)),
    a.figures, a.params, a.title, a.message,
  ]);
  return key(alert) !== key(candidate);
}

function inScope(alert: Alert, scopes: readonly Scope[]): boolean {
  const anchor = Date.parse(alert.anchor_at);
  return scopes.some((s) => s.rule_id === alert.rule_id && s.enterprise_id === alert.enterprise_id && anchor >= s.from && anchor <= s.to);
}
