import { z } from 'zod';
import { Enterprise, ENTERPRISE_STATUSES, QuietPeriod } from '../../ingest/schema.js';
import type { Storage } from '../port.js';
import { CREDIT_CODE_SHAPE } from '../../ingest/credit-code.js';
import { column, columnsOf, literalList, namedQuery } from './query.js';

/**
 * `enterprises` (migrations 2, 8 and 9): reference data on companies. An upsert is a new version row and the
 * newest wins (ReplacingMergeTree(updated_at), read with FINAL), so repeating a PUT is harmless.
 * `exempt` (migration 2) is left out: it stays in the table so processes of the previous version can still
 * insert while a deployment rolls, but nothing writes meaning into it or reads it.
 */
export const EnterpriseRow = z.object({
  enterprise_id: z.string(),
  name: z.string(),
  region: z.string(),
  credit_grade: Enterprise.shape.credit_grade,
  /** Migration 8: rows stored before it read false. */
  whitelisted: z.boolean(),
  /** The company's quiet-period override as JSON, '' when it has none. */
  quiet_period: z.union([z.literal('').transform(() => null), column.json(QuietPeriod)]),
  /** Migration 9: rows stored before it read '' and null; readers take '' as active, the contract's default. */
  status: z.enum([...ENTERPRISE_STATUSES, '']),
  /** 已注销: the day of deregistration (Date32), with status deregistered. */
  deregistered_on: column.date.nullable(),
  updated_at: column.time,
});
export type EnterpriseRow = z.output<typeof EnterpriseRow>;
export type EnterpriseInsert = z.input<typeof EnterpriseRow>;

/** A company as PUT /v1/enterprises accepted it, as a row stamped with the upsert's time. */
export const enterpriseRow = (enterprise: Enterprise, updatedAt: string): EnterpriseInsert => ({
  ...enterprise,
  quiet_period: enterprise.quiet_period ? JSON.stringify(enterprise.quiet_period) : '',
  status: enterprise.status ?? 'active',
  deregistered_on: enterprise.deregistered_on ?? null,
  updated_at: updatedAt,
});

export const insertEnterprises = (storage: Storage, rows: readonly EnterpriseInsert[]) => storage.insert('enterprises', rows);

export const enterpriseById = namedQuery({
  name: 'enterprises.byId',
  row: EnterpriseRow,
  statement: (values: { id: string }) => ({
    sql: `SELECT ${columnsOf(EnterpriseRow)} FROM enterprises FINAL WHERE enterprise_id = {id:String}`, values,
  }),
});

/** What rules may know about these companies. */
const CompanyRow = EnterpriseRow.omit({ updated_at: true });
export const companyRows = namedQuery({
  name: 'enterprises.companies',
  row: CompanyRow,
  // Credit codes as literals where they are (events.ts, eventsInSpans): the engine reads this for companies it meets.
  statement: (values: { ids: readonly string[] }) => {
    const ids = literalList(values.ids, CREDIT_CODE_SHAPE);
    const select = `SELECT ${columnsOf(CompanyRow)} FROM enterprises FINAL`;
    return ids !== null ? { sql: `${select} WHERE enterprise_id IN ${ids}`, values: {} } : { sql: `${select} WHERE enterprise_id IN {ids:Array(String)}`, values };
  },
});

/** The companies whose reference data changed last, most recent first: which facts a starting evaluator reads first. */
export const enterprisesUpdatedLast = namedQuery({
  name: 'enterprises.updatedLast',
  row: EnterpriseRow.pick({ enterprise_id: true }),
  statement: (values: { limit: number }) => ({
    sql: 'SELECT enterprise_id FROM enterprises FINAL ORDER BY updated_at DESC LIMIT {limit:UInt32}', values,
  }),
});

/** The region reference data places each of these companies in (ids without a record are left out). */
export const enterpriseRegions = namedQuery({
  name: 'enterprises.regions',
  row: EnterpriseRow.pick({ enterprise_id: true, region: true }),
  statement: (values: { ids: readonly string[] }) => ({
    sql: 'SELECT enterprise_id, region FROM enterprises FINAL WHERE enterprise_id IN {ids:Array(String)}', values,
  }),
});

/** The region and register status reference data holds for each of these companies (ids without a record are left out). */
export const enterpriseStatuses = namedQuery({
  name: 'enterprises.statuses',
  row: EnterpriseRow.pick({ enterprise_id: true, region: true, status: true, deregistered_on: true }),
  statement: (values: { ids: readonly string[] }) => ({
    sql: 'SELECT enterprise_id, region, status, deregistered_on FROM enterprises FINAL WHERE enterprise_id IN {ids:Array(String)}', values,
  }),
});

export const enterpriseNames = namedQuery({
  name: 'enterprises.names',
  row: EnterpriseRow.pick({ enterprise_id: true, name: true }),
  statement: (values: { ids: readonly string[] }) => ({
    sql: 'SELECT enterprise_id, name FROM enterprises FINAL WHERE enterprise_id IN {ids:Array(String)}', values,
  }),
});

/**
 * Companies whose name contains `text` or whose credit code starts with it (case aside: codes are upper case),
 * within a division-code prefix, by name: the console's search box. '' finds every company there.
 */
export const enterpriseSearch = namedQuery({
  name: 'enterprises.search',
  row: EnterpriseRow.pick({ enterprise_id: true, name: true, region: true }),
  statement: (values: { text: string; region: string; limit: number }) => ({
    sql: `SELECT enterprise_id, name, region FROM enterprises FINAL
          WHERE startsWith(region, {region:String})
            AND ({text:String} = '' OR positionUTF8(name, {text:String}) > 0 OR startsWith(enterprise_id, upperUTF8({text:String})))
          ORDER BY name, enterprise_id LIMIT {limit:UInt32}`,
    values,
  }),
});
