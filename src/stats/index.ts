import type { RuleSet } from '../rules/load.js';
import { toClickHouseTime, type Storage } from '../storage/index.js';
import { ALERT_STATS } from './alerts.js';
import type { Column, StatDefinition } from './definition.js';
import { HOTLINE_STATS } from './hotline.js';
import { INSPECTION_STATS } from './inspections.js';
import { PLAN_STATS } from './plans.js';
import { REFERENCE_STATS } from './reference.js';
import { REPORT_STATS } from './report.js';
import { API_DIALECT, type LeadDays, type StatsContext } from './sql.js';

export type { Column, ColumnKind, Localized, StatDefinition } from './definition.js';
export { API_DIALECT, GRAFANA_DIALECT, type Dialect, type StatsContext } from './sql.js';

/** Every statistic, by name: the justice bureau's view, GET /v1/stats/{name} and the boards read these. */
export const STATS: readonly StatDefinition[] = [...INSPECTION_STATS, ...PLAN_STATS, ...ALERT_STATS, ...HOTLINE_STATS, ...REPORT_STATS, ...REFERENCE_STATS];

const BY_NAME = new Map(STATS.map((s) => [s.name, s]));
export const statNamed = (name: string): StatDefinition | undefined => BY_NAME.get(name);

/** The lead days the no-plan rule asks for where it holds, and its default elsewhere (7 without the rule). */
export function statsContext(rules: Pick<RuleSet, 'rules' | 'policy'>): StatsContext {
  const noPlan = rules.rules.find((r) => r.spec.id === 'no-plan');
  const days = (params: Record<string, unknown> | undefined) => (typeof params?.lead_days === 'number' ? params.lead_days : undefined);
  const fallback = days(noPlan?.spec.params) ?? 7;
  const byPrefix: LeadDays['byPrefix'] = (noPlan?.placement ?? [])
    .flatMap(({ prefix, params }) => {
      const value = days({ ...noPlan?.spec.params, ...params });
      return prefix && value !== undefined ? [{ prefix, days: value }] : [];
    });
  return { leadDays: { byPrefix, fallback } };
}

export interface StatParams {
  from: Date;
  to: Date;
  /** Division-code prefix; '' = everywhere. */
  region: string;
  /** '' = every agency. */
  agency: string;
}

export type StatRow = Record<string, string | number | null>;

/**
 * A row as the API gives it: numbers as numbers (the engine sends 64-bit integers as strings), and a share of
 * nothing (NaN, null) as null.
 */
export function normaliseRow(columns: readonly Column[], row: Record<string, unknown>): StatRow {
  return Object.fromEntries(columns.map(({ name, kind }) => {
    const value = row[name];
    if (value === null || value === undefined) return [name, null];
    if (kind === 'text' || kind === 'code' || kind === 'time') return [name, String(value)];
    const n = Number(value);
    return [name, Number.isFinite(n) ? n : null];
  }));
}

/** Runs a statistic through the storage port with its parameters bound server-side. */
export async function runStat(storage: Storage, stat: StatDefinition, context: StatsContext, params: StatParams): Promise<StatRow[]> {
  const sql = stat.sql(API_DIALECT, context);
  const all: Record<string, unknown> = {
    from: toClickHouseTime(params.from), to: toClickHouseTime(params.to), region: params.region, agency: params.agency,
  };
  // Only the parameters the text uses: a statistic need not filter by every one.
  const bound = Object.fromEntries(Object.entries(all).filter(([name]) => sql.includes(`{${name}:`)));
  const rows = await storage.query<Record<string, unknown>>(sql, bound);
  return rows.map((row) => normaliseRow(stat.columns, row));
}
