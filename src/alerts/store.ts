import { createAuditLog, revisionAudit, type AuditAction, type AuditContext, type AuditEntry, type AuditLog } from '../audit/index.js';
import type { Locks } from '../redis/lock.js';
import { fromClickHouseTime, isClickHouseTime, toClickHouseTime, type Row, type Storage } from '../storage/index.js';
import type { Revision } from './lifecycle.js';
import type { Alert, AlertAction, AlertChange, AlertStatus, Severity } from './model.js';

/**
 * Alerts in ClickHouse: `alerts` holds every revision of every alert and the
 * highest revision wins (ReplacingMergeTree(revision), read with FINAL);
 * `alert_changes` is the history. Every write of an existing alert happens
 * under its company's lock, which the engine takes too while it reconciles.
 */
export interface AlertFilters {
  rule?: string;
  severity?: Severity;
  status?: AlertStatus;
  mode?: Alert['mode'];
  /** Prefix of the 6-digit division code: 37 (province), 3714 (city), 371402 (county). */
  region?: string;
  agency?: string;
  enterprise?: string;
  variant?: string;
  /** On first_seen_at (event time): from inclusive, to exclusive. */
  from?: Date;
  to?: Date;
}

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

export function createAlertStore(storage: Storage, locks: Locks, audit: AuditLog = createAuditLog(storage)) {
  async function select(where: string, params: Record<string, unknown>): Promise<Map<string, Alert>> {
    const rows = await storage.query<AlertRow>(`SELECT ${ALERT_COLUMNS} FROM alerts FINAL WHERE ${where}`, params);
    return new Map(rows.map((row) => [row.id, fromRow(row)]));
  }

  async function byIds(ids: readonly string[]): Promise<Map<string, Alert>> {
    return ids.length === 0 ? new Map() : select('id IN {ids:Array(String)}', { ids });
  }

  async function get(id: string): Promise<Alert | null> {
    return (await byIds([id])).get(id) ?? null;
  }

  /** `audited`: the audit entries of people's actions among the revisions. */
  async function save(revisions: readonly Revision[], audited: readonly AuditEntry[] = []): Promise<void> {
    if (revisions.length === 0) return;
    // Audit and history first: if a later insert fails, the alert keeps its
    // old revision, the caller retries, and the repeated rows fold (same ids).
    await audit.record(audited);
    await storage.insert('alert_changes', revisions.map(changeRow));
    await storage.insert('alerts', revisions.map((r) => alertRow(r.alert)));
  }

  return {
    byIds,
    get,
    save,

    /** Every alert (any status) of these companies, optionally of these rules only: what the engine reconciles against. */
    async forEnterprises(enterpriseIds: readonly string[], ruleIds?: readonly string[]): Promise<Map<string, Alert>> {
      if (enterpriseIds.length === 0 || ruleIds?.length === 0) return new Map();
      return ruleIds
        ? select('enterprise_id IN {ids:Array(String)} AND rule_id IN {rules:Array(String)}', { ids: enterpriseIds, rules: ruleIds })
        : select('enterprise_id IN {ids:Array(String)}', { ids: enterpriseIds });
    },

    /** Newest first by (first_seen_at, id), keyset-paginated. */
    async list(filters: AlertFilters, limit: number, after?: AlertCursor): Promise<AlertPage> {
      const { conditions, params } = filterConditions(filters);
      if (after) {
        conditions.push(`(first_seen_at, id) < ({after_time:DateTime64(3, 'UTC')}, {after_id:String})`);
        Object.assign(params, { after_time: after.first_seen_at, after_id: after.id });
      }
      const rows = await storage.query<AlertRow>(
        `SELECT ${ALERT_COLUMNS} FROM alerts FINAL
         WHERE ${conditions.join(' AND ') || '1'}
         ORDER BY first_seen_at DESC, id DESC
         LIMIT {limit:UInt32}`,
        { ...params, limit: limit + 1 },
      );
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(fromRow),
        next_cursor: rows.length > limit && last ? encodeCursor({ first_seen_at: last.first_seen_at, id: last.id }) : null,
      };
    },

    /** The alert's changes, oldest first. */
    async history(id: string): Promise<AlertChange[]> {
      const rows = await storage.query<AlertChange & { at: string }>(
        `SELECT alert_id, revision, at, actor, action, from_status, to_status, note
         FROM alert_changes FINAL WHERE alert_id = {id:String} ORDER BY revision`, { id });
      return rows.map((r) => ({ ...r, revision: Number(r.revision), at: isoTime(r.at) }));
    },

    /** The stored events behind the alert, in evidence order; events not (yet) stored are left out. */
    async evidenceEvents(alert: Alert): Promise<EvidenceEvent[]> {
      const ids = [...new Set(alert.evidence.map((e) => e.event_id))];
      if (ids.length === 0) return [];
      // Evidence is the alert's company's events. Ids are their senders', so another region may use the
      // same id for an event about its own company: read this company's rows only (a plan has one per company).
      const rows = await storage.query<{ id: string; payload: string }>(
        'SELECT id, payload FROM events FINAL WHERE enterprise_id = {enterprise:String} AND id IN {ids:Array(String)} LIMIT 1 BY id',
        { enterprise: alert.enterprise_id, ids });
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
      return locks.withLocks([enterpriseLock(seen.enterprise_id)], async () => {
        const current = (await get(id))!;
        const revision = transition(current);
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

// Fixed SQL per filter; only the values vary, and they travel as parameters.
const FILTER_SQL: Record<keyof AlertFilters, string> = {
  rule: 'rule_id = {rule:String}',
  severity: 'severity = {severity:String}',
  status: 'status = {status:String}',
  mode: 'mode = {mode:String}',
  region: 'startsWith(region, {region:String})',
  agency: 'agency_id = {agency:String}',
  enterprise: 'enterprise_id = {enterprise:String}',
  variant: 'variant = {variant:String}',
  from: "first_seen_at >= {from:DateTime64(3, 'UTC')}",
  to: "first_seen_at < {to:DateTime64(3, 'UTC')}",
};

function filterConditions(filters: AlertFilters): { conditions: string[]; params: Record<string, unknown> } {
  const conditions: string[] = [];
  const params: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(filters) as Array<[keyof AlertFilters, unknown]>) {
    if (value === undefined) continue;
    conditions.push(FILTER_SQL[name]);
    params[name] = value instanceof Date ? toClickHouseTime(value) : value;
  }
  return { conditions, params };
}

const ALERT_COLUMNS = `id, fingerprint, rule_id, rule_version, variant, severity, mode, channels,
  title_zh, title_en, message_zh, message_en, region, enterprise_id, agency_id, officer_ids,
  window_start, window_end, anchor_at, first_seen_at, last_seen_at, count, evidence, figures, params,
  status, resolution, resolution_note, resolved_by, resolved_at, acknowledged_by, acknowledged_at,
  raised_at, updated_at, silenced_by, inhibited_by, escalation, revision`;

/** An alert as the `alerts` table holds it: flat text, times as ClickHouse prints them, JSON in strings. */
type AlertRow = Omit<Alert, 'title' | 'message' | 'evidence' | 'figures' | 'params' | 'rule_version' | 'count' | 'escalation' | 'revision'> & {
  title_zh: string;
  title_en: string;
  message_zh: string;
  message_en: string;
  evidence: string;
  figures: string;
  params: string;
  // 64-bit integers may arrive as strings.
  rule_version: number | string;
  count: number | string;
  escalation: number | string;
  revision: number | string;
};

const TIME_FIELDS = ['window_start', 'window_end', 'anchor_at', 'first_seen_at', 'last_seen_at', 'raised_at', 'updated_at'] as const;
const NULLABLE_TIME_FIELDS = ['resolved_at', 'acknowledged_at'] as const;

function alertRow(alert: Alert): Row {
  const { title, message, evidence, figures, params, ...rest } = alert;
  const row: Row = {
    ...rest,
    title_zh: title.zh,
    title_en: title.en,
    message_zh: message.zh,
    message_en: message.en,
    evidence: JSON.stringify(evidence),
    figures: JSON.stringify(figures),
    params: JSON.stringify(params),
  };
  for (const field of TIME_FIELDS) row[field] = chTime(alert[field]);
  for (const field of NULLABLE_TIME_FIELDS) row[field] = alert[field] === null ? null : chTime(alert[field]);
  return row;
}

function fromRow(row: AlertRow): Alert {
  const { title_zh, title_en, message_zh, message_en, evidence, figures, params, ...rest } = row;
  const alert: Alert = {
    ...rest,
    title: { zh: title_zh, en: title_en },
    message: { zh: message_zh, en: message_en },
    evidence: JSON.parse(evidence),
    figures: JSON.parse(figures),
    params: JSON.parse(params),
    rule_version: Number(row.rule_version),
    count: Number(row.count),
    escalation: Number(row.escalation),
    revision: Number(row.revision),
  };
  for (const field of TIME_FIELDS) alert[field] = isoTime(row[field]);
  for (const field of NULLABLE_TIME_FIELDS) alert[field] = row[field] === null ? null : isoTime(row[field]);
  return alert;
}

function changeRow({ alert, change }: Revision): Row {
  const { rule_id, severity, region, agency_id, enterprise_id } = alert;
  return { ...change, at: chTime(change.at), rule_id, severity, region, agency_id, enterprise_id };
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

const chTime = (rfc3339: string) => toClickHouseTime(new Date(rfc3339));
const isoTime = (clickhouseTime: string) => fromClickHouseTime(clickhouseTime).toISOString();
