import { createAuditLog, revisionAudit, type AuditAction, type AuditContext, type AuditEntry, type AuditLog } from '../audit/index.js';
import type { Redis } from 'ioredis';
import { createCountedMemory, type CountedMemory } from '../redis/counted-memory.js';
import type { Locks } from '../redis/lock.js';
import { isClickHouseTime, type Storage } from '../storage/index.js';
import {
  alertChangeOf, alertChangeRow, alertHistory, alertOf, alertPage, alertRow, alertsByIds, alertsOfCompanies, insertAlertChanges, insertAlerts,
  type AlertFilters, type AlertRow,
} from '../storage/tables/alerts.js';
import { companyPayloads } from '../storage/tables/events.js';
import type { Revision } from './lifecycle.js';
import type { Alert, AlertAction, AlertChange } from './model.js';

export type { AlertFilters } from '../storage/tables/alerts.js';

export interface AlertPage {
  items: Alert[];
  next_cursor: string | null;
}

export interface EvidenceEvent {
  role: string;
  event: Record<string, unknown>;
}

/** Where an acted-on revision goes (src/delivery/): saved with its audit entries, and delivered. */
export type AlertOutlet = (revision: Revision, audited: readonly AuditEntry[]) => Promise<void>;

/** The lock the engine and people's actions share for one company's alerts. */
export const enterpriseLock = (enterpriseId: string) => `enterprise:${enterpriseId}`;

/**
 * Each company's alerts (latest revisions by id), remembered by a process while the company's count in Redis says
 * no alert of it was written since (src/redis/counted-memory.ts): the engine reconciles against them at every
 * evaluation. Every process that writes alerts counts its writes; `maxAlerts` 0 remembers nothing.
 */
export type AlertMemory = CountedMemory<Map<string, Alert>>;

export const alertCountsKey = (prefix: string) => `${prefix}:alerts:versions`;

export const createAlertMemory = (redis: Redis, prefix: string, maxAlerts: number): AlertMemory =>
  // A company without alerts is remembered too, and weighs one.
  createCountedMemory({ redis, key: alertCountsKey(prefix), maxSize: maxAlerts, sizeOf: (alerts) => Math.max(1, alerts.size) });

/**
 * Alerts in ClickHouse: `alerts` holds every revision of every alert and the
 * highest revision wins (ReplacingMergeTree(revision), read with FINAL);
 * `alert_changes` is the history. Every write of an existing alert happens
 * under its company's lock, which the engine takes too while it reconciles.
 */
export function createAlertStore(storage: Storage, locks: Locks, memory: AlertMemory, audit: AuditLog = createAuditLog(storage)) {
  const byId = (rows: readonly AlertRow[]) => new Map(rows.map((row) => [row.id, alertOf(row)]));

  async function byIds(ids: readonly string[]): Promise<Map<string, Alert>> {
    return ids.length === 0 ? new Map() : byId(await alertsByIds(storage, { ids }));
  }

  async function get(id: string): Promise<Alert | null> {
    return (await byIds([id])).get(id) ?? null;
  }

  /** `audited`: the audit entries of people's actions among the revisions. */
  async function save(revisions: readonly Revision[], audited: readonly AuditEntry[] = []): Promise<void> {
    if (revisions.length === 0) return;
    const companies = [...new Set(revisions.map((r) => r.alert.enterprise_id))];
    // Counted before the write, so that no process trusts what it remembers of these companies while the write
    // may be half done, and after it, so that none trusts what it read meanwhile.
    const before = await memory.count(companies);
    // Audit and history first: if a later insert fails, the alert keeps its
    // old revision, the caller retries, and the repeated rows fold (same ids).
    await audit.record(audited);
    await insertAlertChanges(storage, revisions.map((r) => alertChangeRow(r.alert, r.change)));
    await insertAlerts(storage, revisions.map((r) => alertRow(r.alert)));
    const after = await memory.count(companies);
    // What this process remembered just before the write is complete with it (the companies' locks are held).
    for (const company of companies) {
      const held = before.held(company);
      if (!held || held.version !== before.version(company) - 1 || after.version(company) !== before.version(company) + 1) continue;
      const alerts = new Map(held.value);
      for (const { alert } of revisions) {
        if (alert.enterprise_id === company && (alerts.get(alert.id)?.revision ?? -1) <= alert.revision) alerts.set(alert.id, alert);
      }
      after.remember(company, after.version(company), alerts);
    }
  }

  return {
    byIds,
    get,
    save,

    /**
     * Every alert (any status) of these companies: what the engine reconciles against, under the companies'
     * locks. From memory where it is current, else read once for the rest. A read without the locks is safe too:
     * a write counts after itself, so nothing read while it ran is trusted after it.
     */
    async forEnterprises(enterpriseIds: readonly string[]): Promise<Map<string, Alert>> {
      const found = new Map<string, Alert>();
      if (enterpriseIds.length === 0) return found;
      const counted = await memory.read(enterpriseIds);
      const missing: string[] = [];
      for (const company of new Set(enterpriseIds)) {
        const held = counted.current(company);
        if (held) for (const [id, alert] of held) found.set(id, alert);
        else missing.push(company);
      }
      if (missing.length === 0) return found;
      const read = new Map(missing.map((company) => [company, new Map<string, Alert>()]));
      for (const [id, alert] of byId(await alertsOfCompanies(storage, { enterpriseIds: missing }))) {
        read.get(alert.enterprise_id)?.set(id, alert);
        found.set(id, alert);
      }
      for (const [company, alerts] of read) counted.remember(company, counted.version(company), alerts);
      return found;
    },

    /** Newest first by (first_seen_at, id), keyset-paginated. */
    async list(filters: AlertFilters, limit: number, after?: AlertCursor): Promise<AlertPage> {
      const rows = await alertPage(storage, { filters, limit: limit + 1, after });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(alertOf),
        next_cursor: rows.length > limit && last ? encodeCursor({ first_seen_at: last.first_seen_at, id: last.id }) : null,
      };
    },

    /** The alert's changes, oldest first. */
    async history(id: string): Promise<AlertChange[]> {
      return (await alertHistory(storage, { id })).map(alertChangeOf);
    },

    /** The stored events behind the alert, in evidence order; events not (yet) stored are left out. */
    async evidenceEvents(alert: Alert): Promise<EvidenceEvent[]> {
      const ids = [...new Set(alert.evidence.map((e) => e.event_id))];
      if (ids.length === 0) return [];
      // Evidence is the alert's company's events (a plan has one row per company).
      const rows = await companyPayloads(storage, { enterpriseId: alert.enterprise_id, ids });
      const events = new Map(rows.map((r) => [r.id, JSON.parse(r.payload) as Record<string, unknown>]));
      return alert.evidence.flatMap((e) => {
        const event = events.get(e.event_id);
        return event ? [{ role: e.role, event }] : [];
      });
    },

    /**
     * Applies an action: under the company's lock, re-read the alert (the
     * engine may have changed it since the caller looked), transition, and send
     * the revision out (saved only, without an outlet) before the lock is released,
     * so an alert's messages leave in revision order. Null when there is no such alert;
     * the transition's errors pass through.
     * With `context` the action is a person's: its audit entry is saved with the revision.
     */
    async act(
      id: string, transition: (alert: Alert) => Revision, out: AlertOutlet = (revision, audited) => save([revision], audited), context?: AuditContext,
    ): Promise<Alert | null> {
      const seen = await get(id);
      if (!seen) return null;
      return locks.withLocks([enterpriseLock(seen.enterprise_id)], async (lease) => {
        const current = (await get(id))!;
        const revision = transition(current);
        lease.ensure();
        await out(revision, context ? [alertAudit(current, revision, context)] : []);
        return revision.alert;
      });
    },
  };
}

export type AlertStore = ReturnType<typeof createAlertStore>;

/** Position after the last item of a page, in the list's (first_seen_at, id) DESC order. */
export interface AlertCursor {
  /** As ClickHouse prints DateTime64(3, 'UTC'). */
  first_seen_at: string;
  id: string;
}

export const encodeCursor = (c: AlertCursor) => Buffer.from(JSON.stringify([c.first_seen_at, c.id])).toString('base64url');

export function decodeCursor(text: string): AlertCursor | null {
  try {
    const [first_seen_at, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (typeof first_seen_at !== 'string' || typeof id !== 'string') return null;
    if (!isClickHouseTime(first_seen_at)) return null;
    return { first_seen_at, id };
  } catch {
    return null;
  }
}

const AUDIT_ACTIONS: Partial<Record<AlertAction, AuditAction>> = {
  acknowledged: 'alert.acknowledge', resolved: 'alert.resolve', reopened: 'alert.reopen',
};

function alertAudit(before: Alert, { alert, change }: Revision, context: AuditContext): AuditEntry {
  const action = AUDIT_ACTIONS[change.action];
  if (!action) throw new Error(`alert action ${change.action} is not a person's`);
  return revisionAudit({
    target_kind: 'alert', target_id: alert.id, revision: alert.revision, action, actor: change.actor, at: change.at,
    region: alert.region, note: change.note, before, after: alert, context,
  });
}
