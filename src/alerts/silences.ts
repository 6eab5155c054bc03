import { randomUUID } from 'node:crypto';
import { createAuditLog, NO_CONTEXT, revisionAudit, type AuditContext, type AuditLog } from '../audit/index.js';
import { fromClickHouseTime, toClickHouseTime, type Storage } from '../storage/index.js';
import { insertSilences, silenceById, silencesByState, type SilenceRow } from '../storage/tables/silences.js';
import type { Alert } from './model.js';

/**
 * Silences, as Alertmanager users know them: matchers with a reason, a
 * creator and an expiry. A silenced alert is still decided and stored (marked
 * with the silence's id) but pushed to nobody: no feed message, no ticket, no
 * escalation. A silence applies to revisions decided while it is active.
 */
export interface SilenceMatchers {
  /** '' matches any value; region is a division-code prefix. */
  rule: string;
  region: string;
  agency: string;
  enterprise: string;
}

export interface Silence {
  id: string;
  matchers: SilenceMatchers;
  reason: string;
  created_by: string;
  created_at: string;
  ends_at: string;
  /** Who ended it early ('' while it runs its course). */
  expired_by: string;
  state: 'active' | 'expired';
}

export interface NewSilence {
  matchers: Partial<SilenceMatchers>;
  reason: string;
  created_by: string;
  ends_at: Date;
}

export function silenceMatches(silence: Pick<Silence, 'matchers'>, alert: Pick<Alert, 'rule_id' | 'region' | 'agency_id' | 'enterprise_id'>): boolean {
  const m = silence.matchers;
  return (!m.rule || m.rule === alert.rule_id)
    && (!m.region || alert.region.startsWith(m.region))
    && (!m.agency || m.agency === alert.agency_id)
    && (!m.enterprise || m.enterprise === alert.enterprise_id);
}

/** Workers read active silences at most this often; a new silence applies to decisions within this delay. */
export const SILENCE_REFRESH_MS = 2_000;

export function createSilenceStore(storage: Storage, clock: () => number = Date.now, audit: AuditLog = createAuditLog(storage)) {
  let cache: { at: number; silences: Promise<Silence[]> } | null = null;

  async function write(silence: Silence, revision: number): Promise<void> {
    await insertSilences(storage, [{
      id: silence.id, rule_id: silence.matchers.rule, region: silence.matchers.region, agency_id: silence.matchers.agency,
      enterprise_id: silence.matchers.enterprise, reason: silence.reason, created_by: silence.created_by,
      created_at: toClickHouseTime(new Date(silence.created_at)), ends_at: toClickHouseTime(new Date(silence.ends_at)),
      expired_by: silence.expired_by, updated_at: toClickHouseTime(new Date(clock())), revision,
    }]);
    cache = null;
  }

  async function list(state: 'active' | 'expired' | 'all'): Promise<Silence[]> {
    return (await silencesByState(storage, { state, now: new Date(clock()) })).map((row) => fromRow(row, clock()));
  }

  return {
    list,

    /** Only people create and expire silences: both are always audited (the entry is written first, like the stores' history). */
    async create(input: NewSilence, context: AuditContext = NO_CONTEXT): Promise<Silence> {
      const now = new Date(clock()).toISOString();
      const silence: Silence = {
        id: randomUUID(),
        matchers: { rule: '', region: '', agency: '', enterprise: '', ...input.matchers },
        reason: input.reason, created_by: input.created_by, created_at: now, ends_at: input.ends_at.toISOString(), expired_by: '', state: 'active',
      };
      await audit.record([revisionAudit({
        target_kind: 'silence', target_id: silence.id, revision: 1, action: 'silence.create', actor: silence.created_by, at: now,
        region: silence.matchers.region, note: silence.reason, before: {}, after: silence, context,
      })]);
      await write(silence, 1);
      return silence;
    },

    async get(id: string): Promise<Silence | null> {
      const [row] = await silenceById(storage, { id });
      return row ? fromRow(row, clock()) : null;
    },

    /** Ends a silence now; null if there is no such silence. Expiring an expired one changes nothing. */
    async expire(id: string, actor: string, context: AuditContext = NO_CONTEXT): Promise<Silence | null> {
      const [row] = await silenceById(storage, { id });
      if (!row) return null;
      const found = fromRow(row, clock());
      if (found.state === 'expired') return found;
      const ended: Silence = { ...found, ends_at: new Date(clock()).toISOString(), expired_by: actor, state: 'expired' };
      await audit.record([revisionAudit({
        target_kind: 'silence', target_id: id, revision: row.revision + 1, action: 'silence.expire', actor, at: ended.ends_at,
        region: ended.matchers.region, note: '', before: found, after: ended, context,
      })]);
      await write(ended, row.revision + 1);
      return ended;
    },

    /** Active silences, read at most every SILENCE_REFRESH_MS (the engine asks on every evaluation). */
    async active(): Promise<Silence[]> {
      if (!cache || clock() - cache.at > SILENCE_REFRESH_MS) {
        const silences = list('active');
        cache = { at: clock(), silences };
        silences.catch(() => (cache = null));
      }
      const now = clock();
      return (await cache.silences).filter((s) => Date.parse(s.ends_at) > now);
    },
  };
}

export type SilenceStore = ReturnType<typeof createSilenceStore>;

function fromRow(row: SilenceRow, now: number): Silence {
  const ends_at = fromClickHouseTime(row.ends_at).toISOString();
  return {
    id: row.id,
    matchers: { rule: row.rule_id, region: row.region, agency: row.agency_id, enterprise: row.enterprise_id },
    reason: row.reason,
    created_by: row.created_by,
    created_at: fromClickHouseTime(row.created_at).toISOString(),
    ends_at,
    expired_by: row.expired_by,
    state: Date.parse(ends_at) > now ? 'active' : 'expired',
  };
}
