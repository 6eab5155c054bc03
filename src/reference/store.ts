import type { Agency, Enterprise } from '../ingest/schema.js';
import { toClickHouseTime, type Storage } from '../storage/index.js';
import { agencyById, agencyNamesAndRegions, agencyRow, agencySearch, insertAgencies } from '../storage/tables/agencies.js';
import {
  enterpriseById, enterpriseNames, enterpriseRegions, enterpriseRow, enterpriseSearch, enterpriseStatuses, insertEnterprises,
} from '../storage/tables/enterprises.js';

/**
 * Reference data the rules read: companies (credit grade, white list, quiet
 * period, status) and agencies. An upsert is a new version row; the newest wins
 * (ReplacingMergeTree(updated_at), read with FINAL), so repeating a PUT is harmless.
 */
export function createReferenceStore(storage: Storage) {
  return {
    async upsertEnterprises(enterprises: readonly Enterprise[]) {
      const updatedAt = toClickHouseTime(new Date());
      await insertEnterprises(storage, enterprises.map((e) => enterpriseRow(e, updatedAt)));
    },
    async upsertAgencies(agencies: readonly Agency[]) {
      const updatedAt = toClickHouseTime(new Date());
      await insertAgencies(storage, agencies.map((a) => agencyRow(a, updatedAt)));
    },
    async enterprise(id: string): Promise<(Enterprise & { updated_at: string }) | null> {
      const [row] = await enterpriseById(storage, { id });
      if (!row) return null;
      const { quiet_period, status, deregistered_on, ...rest } = row;
      return {
        ...rest,
        ...(quiet_period ? { quiet_period } : {}),
        status: status || 'active',
        ...(deregistered_on ? { deregistered_on } : {}),
      };
    },
    /** The status each id's stored record has (the upsert's "before"): a change of it re-evaluates the company. */
    async storedStatuses(ids: readonly string[]): Promise<Map<string, StatusFacts>> {
      if (ids.length === 0) return new Map();
      const rows = await enterpriseStatuses(storage, { ids: [...new Set(ids)] });
      return new Map(rows.map((r) => [r.enterprise_id, { status: r.status || 'active', deregistered_on: r.deregistered_on }]));
    },
    /** The region reference data holds for each id that has a record (the upsert's "before"). */
    async storedRegions(kind: 'enterprise' | 'agency', ids: readonly string[]): Promise<Map<string, string>> {
      if (ids.length === 0) return new Map();
      const unique = [...new Set(ids)];
      return kind === 'enterprise'
        ? new Map((await enterpriseRegions(storage, { ids: unique })).map((r) => [r.enterprise_id, r.region]))
        : new Map((await agencyNamesAndRegions(storage, { ids: unique })).map((r) => [r.agency_id, r.region]));
    },
    /**
     * Companies or agencies whose name contains `text` or whose id starts with it, within a division-code
     * prefix: the console's search box and its 转办 picker. At most `limit`, by name.
     */
    async search(kind: 'enterprise' | 'agency', { text = '', region = '', limit }: { text?: string; region?: string; limit: number }) {
      const params = { text, region, limit };
      return kind === 'enterprise'
        ? (await enterpriseSearch(storage, params)).map((r) => ({ id: r.enterprise_id, name: r.name, region: r.region }))
        : (await agencySearch(storage, params)).map((r) => ({ id: r.agency_id, name: r.name, region: r.region }));
    },
    /** Names by id for the ids that have a record (exports put names beside codes). */
    async names(kind: 'enterprise' | 'agency', ids: readonly string[]): Promise<Map<string, string>> {
      if (ids.length === 0) return new Map();
      const unique = [...new Set(ids)];
      return kind === 'enterprise'
        ? new Map((await enterpriseNames(storage, { ids: unique })).map((r) => [r.enterprise_id, r.name]))
        : new Map((await agencyNamesAndRegions(storage, { ids: unique })).map((r) => [r.agency_id, r.name]));
    },
    async agency(id: string): Promise<(Agency & { updated_at: string }) | null> {
      const [row] = await agencyById(storage, { id });
      return row ?? null;
    },
  };
}

export type ReferenceStore = ReturnType<typeof createReferenceStore>;

export interface StatusFacts {
  status: string;
  deregistered_on: string | null;
}
