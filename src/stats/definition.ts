import type { Dialect, StatsContext } from './sql.js';

/** How a column's values read: the console formats and charts by it, the API turns numbers into numbers. */
export type ColumnKind = 'text' | 'code' | 'time' | 'count' | 'number' | 'share' | 'seconds' | 'days';

export interface Column {
  name: string;
  zh: string;
  en: string;
  kind: ColumnKind;
}

export interface Localized {
  zh: string;
  en: string;
}

/**
 * One statistic: a named query over the stored events, alerts and tickets, filtered by a time range, a region
 * prefix and an agency. Its SQL is written once against a Dialect (./sql.ts), so GET /v1/stats/{name} and
 * the Grafana panel whose query's refId is this name run the same text.
 */
export interface StatDefinition {
  /** Lower-case words joined by '-': the route's {name} and the panel query's refId. */
  name: string;
  title: Localized;
  /** What is counted, and how time applies (Chinese, then English). */
  description: string;
  /** The result's columns, in order. */
  columns: Column[];
  sql(dialect: Dialect, context: StatsContext): string;
}

export const column = (name: string, kind: ColumnKind, zh: string, en: string): Column => ({ name, kind, zh, en });
