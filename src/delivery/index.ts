import type { Queue } from 'bullmq';
import { escalationTimer, MAX_ESCALATION } from '../alerts/escalation.js';
import type { Revision } from '../alerts/lifecycle.js';
import type { AlertStore } from '../alerts/store.js';
import type { AuditEntry } from '../audit/index.js';
import type { Alert, AlertAction } from '../alerts/model.js';
import { deliverable, route, type Inhibitor } from '../alerts/routing.js';
import type { SilenceStore } from '../alerts/silences.js';
import type { Journal, JournalEntry } from '../feed/journal.js';
import type { Metrics } from '../metrics/index.js';
import type { EscalationJob } from '../queues/index.js';
import { alertPayload } from '../feed/protocol.js';
import type { RuleRegistry } from '../rules/registry.js';

/**
 * The one way out for an alert once it is decided: routed (silences,
 * inhibition), saved, then delivered to the live feed, a hotline ticket and
 * an escalation timer. Callers hold the company's lock, so an alert's
 * messages leave in revision order. Every side effect is idempotent per
 * alert revision and the feed message is written last, as the mark that the
 * revision was delivered; so a delivery cut short by a crash is completed by
 * the next one that looks at the alert, and none is done twice.
 */
export interface Delivery {
  /**
   * Decisions of the engine or of the system itself, against the companies' stored alerts: routed, saved and
   * delivered, with any stored revision a crash left undelivered. Returns the revisions as saved.
   */
  decided(revisions: readonly Revision[], stored: readonly Alert[]): Promise<Revision[]>;
  /** An action on one alert (a person's, with its audit entries, or an escalation timer's): saved and delivered as it is routed already. */
  acted(revision: Revision, audited: readonly AuditEntry[]): Promise<void>;
}

export interface DeliveryOptions {
  alerts: Pick<AlertStore, 'save'>;
  journal: Journal;
  silences: SilenceStore;
  rules: RuleRegistry;
  escalations: Queue<EscalationJob>;
  /** Opens one ticket per alert routed to the hotline (idempotent). */
  openTickets: (alerts: Alert[]) => Promise<void>;
  metrics: Metrics;
}

/** How far back a delivery looks for stored revisions a crash left undelivered. */
export const CATCH_UP_MS = 3600_000;

const OPENING: ReadonlySet<AlertAction> = new Set(['raised', 'reraised', 'reopened', 'escalated']);

interface Item {
  alert: Alert;
  action: AlertAction;
  actor: string;
}

export function createDelivery(options: DeliveryOptions): Delivery {
  const { journal } = options;

  function ruleSpec(id: string) {
    return options.rules.current().rules.find((r) => r.spec.id === id)?.spec;
  }

  function inhibitors(): Inhibitor[] {
    return options.rules.current().rules.flatMap(({ spec }) => spec.inhibits
      ? [{ rule_id: spec.id, severity: spec.severity, equal: spec.inhibits.equal, period: spec.inhibits.period ?? null }]
      : []);
  }

  async function routed(revisions: readonly Revision[], stored: readonly Alert[]): Promise<Revision[]> {
    if (revisions.length === 0) return [];
    return route(revisions, { silences: await options.silences.active(), alerts: stored, inhibitors: inhibitors() });
  }

  /** Pushes revisions (and recently changed stored alerts not yet delivered) to whoever should hear. */
  async function deliver(revisions: readonly Revision[], recent: readonly Alert[]): Promise<void> {
    const items: Item[] = revisions.map((r) => ({ alert: r.alert, action: r.change.action, actor: r.change.actor }));
    const fresh = new Set(items.map((i) => i.alert.id));
    const since = Date.now() - CATCH_UP_MS;
    for (const alert of recent) {
      if (!fresh.has(alert.id) && Date.parse(alert.updated_at) >= since) items.push({ alert, action: lastAction(alert), actor: lastActor(alert) });
    }
    if (items.length === 0) return;
    const todo = await journal.unpublished(items.map((i) => key(i.alert)));
    const pending = items.filter((i) => todo.has(key(i.alert)));
    const reach = pending.filter((i) => deliverable(i.alert));

    const ticketed = reach.filter((i) => (i.action === 'raised' || i.action === 'reraised')
      && i.alert.channels.includes('hotline') && !triggeredByComplaint(i.alert));
    if (ticketed.length > 0) await options.openTickets(ticketed.map((i) => i.alert));
    const timers = reach.flatMap((i) => {
      const minutes = ruleSpec(i.alert.rule_id)?.escalate_after_minutes;
      return minutes && i.alert.status === 'open' && OPENING.has(i.action) && i.alert.escalation < MAX_ESCALATION
        ? [escalationTimer(i.alert, minutes * 60_000)] : [];
    });
    if (timers.length > 0) await options.escalations.addBulk(timers);
    await journal.publish(pending.map((i) => entry(i, deliverable(i.alert) && i.alert.channels.includes('feed'))));
    count(options.metrics, pending);
  }

  return {
    async decided(revisions, stored) {
      const saved = await routed(revisions, stored);
      await options.alerts.save(saved);
      await deliver(saved, stored);
      return saved;
    },

    async acted(revision, audited) {
      await options.alerts.save([revision], audited);
      await deliver([revision], []);
    },
  };
}

// Counted once the journal holds them: a retried delivery finds nothing pending and counts nothing again.
function count(metrics: Metrics, delivered: readonly Item[]): void {
  for (const { alert, action } of delivered) {
    const rule = alert.rule_id;
    metrics.alertChanges.inc({ rule, action });
    if (action === 'raised' || action === 'reraised') metrics.alertsRaised.inc({ rule, severity: alert.severity });
    if (alert.silenced_by.length > 0) metrics.alertsSuppressed.inc({ rule, by: 'silence' });
    else if (alert.inhibited_by) metrics.alertsSuppressed.inc({ rule, by: 'inhibition' });
    else if (alert.mode !== 'active') metrics.alertsSuppressed.inc({ rule, by: alert.mode });
  }
}

// A complaint opens its own ticket when it is stored (where its region sends complaints to the 12345 queue); an
// alert a complaint raised directly would be a second one. Where complaints go to the feed, the alert is what reaches people.
const triggeredByComplaint = (alert: Alert) => alert.evidence.some((e) => e.role === 'trigger' && e.type === 'complaint');

const key = (alert: Alert) => `${alert.id}:${alert.revision}`;

function entry({ alert, action, actor }: Item, push: boolean): JournalEntry {
  return {
    key: key(alert), push, payload: alertPayload(alert, action, actor),
    rule: alert.rule_id, severity: alert.severity, region: alert.region, agency: alert.agency_id,
  };
}

// A stored alert carries its state, not the change that produced it: name the change from the state.
function lastAction(alert: Alert): AlertAction {
  if (alert.status === 'resolved') return alert.resolution === 'cleared' ? 'cleared' : 'resolved';
  if (alert.status === 'acknowledged') return 'acknowledged';
  if (alert.escalation > 0) return 'escalated';
  return alert.revision === 1 ? 'raised' : 'updated';
}

const lastActor = (alert: Alert) =>
  alert.status === 'resolved' ? alert.resolved_by : alert.status === 'acknowledged' ? alert.acknowledged_by : 'system';
