import { z } from 'zod';
import type { Officer } from '../../ingest/schema.js';
import type { Storage } from '../port.js';
import { column, namedQuery } from './query.js';

/**
 * `officers` (migration 14): reference data naming the officers events list by id (officer_ids). An upsert is a
 * new version row and the newest wins (ReplacingMergeTree(updated_at), read with FINAL). An officer has no region
 * of their own: the agency they serve places them, so a move of the agency moves its officers with it.
 */
export const OfficerRow = z.object({
  officer_id: z.string(),
  name: z.string(),
  agency_id: z.string(),
  updated_at: column.time,
});
export type OfficerRow = z.output<typeof OfficerRow>;

export const officerRow = (officer: Officer, updatedAt: string): OfficerRow => ({ ...officer, updated_at: updatedAt });

export const insertOfficers = (storage: Storage, rows: readonly OfficerRow[]) => storage.insert('officers', rows);

/** The agency each of these officers serves now (ids without a record are left out): the upsert's "before". */
export const officerAgencies = namedQuery({
  name: 'officers.agencies',
  row: OfficerRow.pick({ officer_id: true, agency_id: true }),
  statement: (values: { ids: readonly string[] }) => ({
    sql: 'SELECT officer_id, agency_id FROM officers FINAL WHERE officer_id IN {ids:Array(String)}', values,
  }),
});

/**
 * Officers of these agencies whose name contains `text` or whose id contains it (any case: a number is often typed
 * in part). The caller passes the agencies of the region searched: an agency places its officers, and the ids
 * travel as a parameter rather than a join, which a sharded cluster would run per shard. The exact id comes first
 * (the console names an officer by asking for its id), then by name.
 */
export const officerSearch = namedQuery({
  name: 'officers.search',
  row: OfficerRow.pick({ officer_id: true, name: true, agency_id: true }),
  statement: (values: { text: string; agencyIds: readonly string[]; limit: number }) => ({
    sql: `SELECT officer_id, name, agency_id FROM officers FINAL
          WHERE agency_id IN {agencyIds:Array(String)}
            AND ({text:String} = '' OR positionUTF8(name, {text:String}) > 0 OR positionCaseInsensitive(officer_id, {text:String}) > 0)
          ORDER BY officer_id = {text:String} DESC, name, officer_id
          LIMIT {limit:UInt32}`,
    values,
  }),
});

/** Names by id, for the ids that have a record (exports put names beside numbers). */
export const officerNames = namedQuery({
  name: 'officers.names',
  row: OfficerRow.pick({ officer_id: true, name: true }),
  statement: (values: { ids: readonly string[] }) => ({
    sql: 'SELECT officer_id, name FROM officers FINAL WHERE officer_id IN {ids:Array(String)}', values,
  }),
});
