import type { Officer } from '../ingest/schema.js';
import { toClickHouseTime, type Storage } from '../storage/index.js';
import { agenciesInRegion } from '../storage/tables/agencies.js';
import { insertOfficers, officerAgencies, officerNames, officerRow, officerSearch } from '../storage/tables/officers.js';

/**
 * Officers on reference data: the name behind each id events list in officer_ids, and the agency they serve. An
 * upsert is a new version row; the newest wins, so repeating a PUT is harmless.
 */
export function createOfficerStore(storage: Storage) {
  return {
    async upsert(officers: readonly Officer[]) {
      const updatedAt = toClickHouseTime(new Date());
      await insertOfficers(storage, officers.map((o) => officerRow(o, updatedAt)));
    },
    /** The agency each id's stored record names (the upsert's "before"); ids without a record are left out. */
    async storedAgencies(ids: readonly string[]): Promise<Map<string, string>> {
      if (ids.length === 0) return new Map();
      return new Map((await officerAgencies(storage, { ids: [...new Set(ids)] })).map((r) => [r.officer_id, r.agency_id]));
    },
    /**
     * Officers by part of the name or id, of one agency when given, whose agency reference data places in `region`
     * (a division-code prefix, '' for everywhere): at most `limit`, with their agency's region.
     */
    async search({ text = '', agency = '', region = '', limit }: { text?: string; agency?: string; region?: string; limit: number }) {
      const placed = new Map((await agenciesInRegion(storage, { region })).map((a) => [a.agency_id, a.region]));
      const agencyIds = agency ? (placed.has(agency) ? [agency] : []) : [...placed.keys()];
      if (agencyIds.length === 0) return [];
      const rows = await officerSearch(storage, { text, agencyIds, limit });
      return rows.map((r) => ({ id: r.officer_id, name: r.name, agency_id: r.agency_id, region: placed.get(r.agency_id)! }));
    },
    /** Names by id for the ids that have a record (exports put names beside numbers). */
    async names(ids: readonly string[]): Promise<Map<string, string>> {
      if (ids.length === 0) return new Map();
      return new Map((await officerNames(storage, { ids: [...new Set(ids)] })).map((r) => [r.officer_id, r.name]));
    },
  };
}

export type OfficerStore = ReturnType<typeof createOfficerStore>;
