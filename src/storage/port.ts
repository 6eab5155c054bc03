/**
 * The storage port: everything the rest of Qingjian may ask of ClickHouse.
 * Two adapters implement it with one SQL dialect: the embedded engine (chdb)
 * and a ClickHouse server (@clickhouse/client). Values always travel as
 * server-side query parameters (`{name:Type}`), never spliced into SQL.
 */
export type Row = Record<string, unknown>;
export type Params = Record<string, unknown>;

/** A ClickHouse cluster the tables live on (CLICKHOUSE_CLUSTER): its remote_servers name and the database. */
export interface ClusterTarget {
  readonly name: string;
  readonly database: string;
}

export interface Storage {
  /** Which adapter this is, for logs and /readyz. */
  readonly kind: 'embedded' | 'server';
  /** Set when the tables live ON CLUSTER (server adapter with CLICKHOUSE_CLUSTER): migrations are rendered for it. */
  readonly cluster?: ClusterTarget;
  /** Appends rows (JSONEachRow semantics: missing columns take their defaults). */
  insert(table: string, rows: readonly Row[]): Promise<void>;
  /** Runs a SELECT and returns its rows (64-bit integers may arrive as numbers or strings: wrap in Number()). */
  query<T = Row>(sql: string, params?: Params): Promise<T[]>;
  /**
   * Runs a SELECT and returns its result as the engine wrote it in JSONCompactEachRowWithNames (decode with
   * `compactRows`): for a caller that decodes it on another thread, as a backtest's slices are.
   */
  queryCompact(sql: string, params?: Params): Promise<Uint8Array>;
  /** Runs a statement that returns no rows (DDL, OPTIMIZE, ...). */
  command(sql: string, params?: Params): Promise<void>;
  /** Resolves when the engine answers. */
  ping(): Promise<void>;
  /**
   * Hands memory the engine has freed back to the system now, where the engine runs in this process (its allocator
   * keeps freed pages for 5 s otherwise); a server's memory is its own, so there this does nothing. A backtest calls
   * it after each slice's read.
   */
  releaseMemory(): Promise<void>;
  /** Waits for outstanding work, then releases the engine. */
  close(): Promise<void>;
}

const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * A row's strings as ClickHouse takes them. A string holding an unpaired surrogate (valid JSON, e.g. a complaint
 * text "\ud800", but not valid Unicode) makes ClickHouse refuse the whole insert: a 500 for a company name or a
 * silence reason, a ticket job retried for ever. Such a character is stored as U+FFFD (what toWellFormed does).
 */
export function wellFormed(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(UNPAIRED_SURROGATE, '\ufffd');
  if (Array.isArray(value)) return value.map(wellFormed);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, wellFormed(v)]));
  }
  return value;
}

/** The same, as a JSON.stringify replacer. */
const wellFormedJson = (_key: string, value: unknown): unknown =>
  (typeof value === 'string' ? value.replace(UNPAIRED_SURROGATE, '\ufffd') : value);

/**
 * A row as one line of JSONEachRow, its strings well-formed. JSON.stringify writes an unpaired surrogate as an
 * escape, `\udXXX` in lowercase (ES2019's well-formed JSON.stringify), and every other character of a string as
 * itself or another escape; so a line without `\ud` has none, and only a line with it (a lone surrogate, or text
 * that spells the escape) is written again through the replacer. A replacer takes V8 off its fast path: with it,
 * stringifying was most of the embedded insert's main-thread time (bench:rules --cpu-prof, 2026-12-06).
 */
export function jsonLine(row: unknown): string {
  const line = JSON.stringify(row);
  return line.includes('\\ud') ? JSON.stringify(row, wellFormedJson) : line;
}

/** Formats a Date the way ClickHouse parses DateTime64(3, 'UTC') in JSON and parameters. */
export function toClickHouseTime(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

/**
 * Whether a string is a DateTime64(3, 'UTC') value exactly as `toClickHouseTime` writes it. Cursors carry
 * such values back from clients: anything else ('1', '2026', year -1 …) makes ClickHouse refuse the query.
 */
export function isClickHouseTime(value: unknown): value is string {
  if (typeof value !== 'string' || !/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/.test(value)) return false;
  const date = fromClickHouseTime(value);
  return !Number.isNaN(date.getTime()) && toClickHouseTime(date) === value;
}

/** Parses a DateTime64(3, 'UTC') value as ClickHouse prints it. */
export function fromClickHouseTime(value: string): Date {
  return new Date(value.replace(' ', 'T') + 'Z');
}
