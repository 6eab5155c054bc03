/**
 * The storage port: everything the rest of Qingjian may ask of ClickHouse.
 * Two adapters implement it with one SQL dialect: the embedded engine (chdb)
 * and a ClickHouse server (@clickhouse/client). Values always travel as
 * server-side query parameters (`{name:Type}`), never spliced into SQL.
 */
export type Row = Record<string, unknown>;
export type Params = Record<string, unknown>;

export interface Storage {
  /** Which adapter this is, for logs and /readyz. */
  readonly kind: 'embedded' | 'server';
  /** Appends rows (JSONEachRow semantics: missing columns take their defaults). */
  insert(table: string, rows: readonly Row[]): Promise<void>;
  /** Runs a SELECT and returns its rows (64-bit integers may arrive as numbers or strings: wrap in Number()). */
  query<T = Row>(sql: string, params?: Params): Promise<T[]>;
  /** Runs a statement that returns no rows (DDL, OPTIMIZE, ...). */
  command(sql: string, params?: Params): Promise<void>;
  /** Resolves when the engine answers. */
  ping(): Promise<void>;
  /** Waits for outstanding work, then releases the engine. */
  close(): Promise<void>;
}

/** Formats a Date the way ClickHouse parses DateTime64(3, 'UTC') in JSON and parameters. */
export function toClickHouseTime(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

/** Parses a DateTime64(3, 'UTC') value as ClickHouse prints it. */
export function fromClickHouseTime(value: string): Date {
  return new Date(value.replace(' ', 'T') + 'Z');
}
