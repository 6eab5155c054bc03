import { z } from 'zod';
import { IDENTIFIER_CHARSET, type Agency } from '../../ingest/schema.js';
import type { Storage } from '../port.js';
import { column, columnsOf, literalList, namedQuery } from './query.js';

/**
 * `agencies` (migration 2): reference data on inspecting agencies. An upsert is a new version row and the
 * newest wins (ReplacingMergeTree(updated_at), read with FINAL).
 */
export const AgencyRow = z.object({
  agency_id: z.string(),
  name: z.string(),
  region: z.string(),
  kind: z.string(),
  updated_at: column.time,
});
export type AgencyRow = z.output<typeof AgencyRow>;

export const agencyRow = (agency: Agency, updatedAt: string): AgencyRow => ({ ...agency, updated_at: updatedAt });

export const insertAgencies = (storage: Storage, rows: readonly AgencyRow[]) => storage.insert('agencies', rows);

export const agencyById = namedQuery({
  name: 'agencies.byId',
  row: AgencyRow,
  statement: (values: { id: string }) => ({
    sql: `SELECT ${columnsOf(AgencyRow)} FROM agencies FINAL WHERE agency_id = {id:String}`, values,
  }),
});

/** The agencies reference data places in a division-code prefix ('' for all of them): whose officers a search reaches. */
export const agenciesInRegion = namedQuery({
  name: 'agencies.inRegion',
  row: AgencyRow.pick({ agency_id: true, region: true }),
  statement: (values: { region: string }) => ({
    sql: 'SELECT agency_id, region FROM agencies FINAL WHERE startsWith(region, {region:String})', values,
  }),
});

/**
 * The name and region of each of these agencies (ids without a record are left out): the one read by id that the
 * engine's memory of reference data, plan checks, backtests, exports and upserts share.
 */
export const agencyNamesAndRegions = namedQuery({
  name: 'agencies.namesAndRegions',
  row: AgencyRow.pick({ agency_id: true, name: true, region: true }),
  // Identifiers as literals where they are (events.ts, eventsInSpans): a bound query waits behind every other one of the process.
  statement: (values: { ids: readonly string[] }) => {
    const ids = literalList(values.ids, IDENTIFIER_CHARSET);
    return ids !== null
      ? { sql: `SELECT agency_id, name, region FROM agencies FINAL WHERE agency_id IN ${ids}`, values: {} }
      : { sql: 'SELECT agency_id, name, region FROM agencies FINAL WHERE agency_id IN {ids:Array(String)}', values };
  },
});

/** Every agency's name: a backtest's slices are worded on another thread, which cannot ask for them as it goes. */
export const agencyNames = namedQuery({
  name: 'agencies.names',
  row: AgencyRow.pick({ agency_id: true, name: true }),
  statement: () => ({ sql: 'SELECT agency_id, name FROM agencies FINAL', values: {} }),
});

/**
 * Agencies whose name contains `text` or whose id starts with it (upper-cased, as ids are written), within a
 * division-code prefix, by name: the console's 转办 picker. '' finds every agency there.
 */
export const agencySearch = namedQuery({
  name: 'agencies.search',
  row: AgencyRow.pick({ agency_id: true, name: true, region: true }),
  statement: (values: { text: string; region: string; limit: number }) => ({
    sql: `SELECT agency_id, name, region FROM agencies FINAL
          WHERE startsWith(region, {region:String})
            AND ({text:String} = '' OR positionUTF8(name, {text:String}) > 0 OR startsWith(agency_id, upperUTF8({text:String})))
          ORDER BY name, agency_id LIMIT {limit:UInt32}`,
    values,
  }),
});
