import type { Agency, Enterprise } from '../ingest/index.js';
import { toClickHouseTime, type Storage } from '../storage/index.js';

/**
 * Reference data the rules read: companies (credit grade, white list, quiet
 * period, status) and agencies. An upsert is a new version row; the newest wins
 * (ReplacingMergeTree(updated_at), read with FINAL), so repeating a PUT is harmless.
 */
export function createReferenceStore(storage: Storage) {
  return {
    async upsertEnterprises(enterprises: readonly Enterprise[]) {
      const updated_at = toClickHouseTime(new Date());
      await storage.insert('enterprises', enterprises.map((e) => ({
        ...e,
        quiet_period: e.quiet_period ? JSON.stringify(e.quiet_period) : '',
        status: e.status ?? 'active',
        deregistered_on: e.deregistered_on ?? null,
        updated_at,
      })));
    },
    async upsertAgencies(agencies: readonly Agency[]) {
      const updated_at = toClickHouseTime(new Date());
      await storage.insert('agencies', agencies.map((a) => ({ ...a, updated_at })));
    },
    async enterprise(id: string): Promise<(Enterprise & { updated_at: string }) | null> {
      const [row] = await storage.query<EnterpriseRow>(
        `SELECT enterprise_id, name, region, credit_grade, whitelisted, quiet_period, status, deregistered_on, updated_at
         FROM enterprises FINAL WHERE enterprise_id = {id:String}`, { id });
      if (!row) return null;
      const { quiet_period, status, deregistered_on, ...rest } = row;
      return {
        ...rest,
        ...(quiet_period ? { quiet_period: JSON.parse(quiet_period) } : {}),
        status: status || 'active',
        ...(deregistered_on ? { deregistered_on } : {}),
      };
    },
    /** The status each id's stored record has (the upsert's "before"): a change of it re-evaluates the company. */
    async storedStatuses(ids: readonly string[]): Promise<Map<string, StatusFacts>> {
      if (ids.length === 0) return new Map();
      const rows = await storage.query<{ id: string; status: string; deregistered_on: string | null }>(
        `SELECT enterprise_id AS id, status, deregistered_on FROM enterprises FINAL WHERE enterprise_id IN {ids:Array(String)}`, { ids: [...new Set(ids)] });
      return new Map(rows.map((r) => [r.id, { status: r.status || 'active', deregistered_on: r.deregistered_on }]));
    },
    /** The region reference data holds for each id that has a record (the upsert's "before"). */
    async storedRegions(kind: 'enterprise' | 'agency', ids: readonly string[]): Promise<Map<string, string>> {
      if (ids.length === 0) return new Map();
      const [table, column] = kind === 'enterprise' ? ['enterprises', 'enterprise_id'] : ['agencies', 'agency_id'];
      const rows = await storage.query<{ id: string; region: string }>(
        `SELECT ${column} AS id, region FROM ${table} FINAL WHERE ${column} IN {ids:Array(String)}`, { ids: [...new Set(ids)] });
      return new Map(rows.map((r) => [r.id, r.region]));
    },
    /**
     * Companies or agencies whose name contains `text` or whose id starts with it, within a division-code
     * prefix: the console's search box and its 转办 picker. At most `limit`, by name.
     */
    async search(kind: 'enterprise' | 'agency', { text = '', region = '', limit }: { text?: string; region?: string; limit: number }) {
      const [table, column] = kind === 'enterprise' ? ['enterprises', 'enterprise_id'] : ['agencies', 'agency_id'];
      return storage.query<{ id: string; name: string; region: string }>(
        `SELECT ${column} AS id, name, region FROM ${table} FINAL
         WHERE startsWith(region, {region:String})
           AND ({text:String} = '' OR positionUTF8(name, {text:String}) > 0 OR startsWith(${column}, upperUTF8({text:String})))
         ORDER BY name, id LIMIT {limit:UInt32}`, { text, region, limit });
    },
    /** Names by id for the ids that have a record (exports put names beside codes). */
    async names(kind: 'enterprise' | 'agency', ids: readonly string[]): Promise<Map<string, string>> {
      if (ids.length === 0) return new Map();
      const [table, column] = kind === 'enterprise' ? ['enterprises', 'enterprise_id'] : ['agencies', 'agency_id'];
      const rows = await storage.query<{ id: string; name: string }>(
        `SELECT ${column} AS id, name FROM ${table} FINAL WHERE ${column} IN {ids:Array(String)}`, { ids: [...new Set(ids)] });
      return new Map(rows.map((r) => [r.id, r.name]));
    },
    async agency(id: string): Promise<(Agency & { updated_at: string }) | null> {
      const [row] = await storage.query<Agency & { updated_at: string }>(
        `SELECT agency_id, name, region, kind, updated_at FROM agencies FINAL WHERE agency_id = {id:String}`, { id });
      return row ?? null;
    },
  };
}

export type ReferenceStore = ReturnType<typeof createReferenceStore>;

type EnterpriseRow = Omit<Enterprise, 'quiet_period' | 'deregistered_on'> & { quiet_period: string; deregistered_on: string | null; updated_at: string };

export interface StatusFacts {
  status: string;
  deregistered_on: string | null;
}
