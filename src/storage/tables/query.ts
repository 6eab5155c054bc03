import { z } from 'zod';
import type { Params, Storage } from '../port.js';

/** A statement and the values it binds (`{name:Type}` placeholders, never spliced into the SQL). */
export interface Statement {
  sql: string;
  values: Params;
}

/**
 * A SELECT as a typed function: parameters as its caller's type says, rows as its schema validates them; its
 * `statement` shows what it sends (which values it binds).
 */
export type NamedQuery<P, R> = ((storage: Storage, params: P) => Promise<R[]>) & { statement: (params: P) => Statement };

/**
 * Declares a named query in the manner of Trigger.dev's ClickHouse package (`ch.query({ name, query, schema })`):
 * its parameters are typed by `statement`'s argument, each result row is checked against `row`. `Storage.query<T>`
 * is only a cast; a row that does not fit (a column renamed, an enum value no code knows, JSON that is not the
 * expected shape) fails here with the query's name, the row's position and the column, not later as an
 * undefined deep in a rule.
 */
export function namedQuery<P, S extends z.ZodType>(spec: {
  name: string;
  row: S;
  statement: (params: P) => Statement;
}): NamedQuery<P, z.output<S>> {
  const run = async (storage: Storage, params: P) => {
    const { sql, values } = spec.statement(params);
    return parseRows(spec.name, spec.row, await storage.query<unknown>(sql, values));
  };
  return Object.assign(run, { statement: spec.statement });
}

/** Validates rows one by one (a loop of safeParse is cheaper than z.array's parse of the whole result). */
export function parseRows<S extends z.ZodType>(name: string, schema: S, rows: readonly unknown[]): Array<z.output<S>> {
  const out = new Array<z.output<S>>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const result = schema.safeParse(rows[i]);
    if (!result.success) throw new RowError(name, i, result.error);
    out[i] = result.data;
  }
  return out;
}

/** A stored row that does not fit its table's schema, naming the query, the row and the columns. */
export class RowError extends Error {
  constructor(readonly query: string, readonly index: number, readonly problem: z.ZodError) {
    const problems = problem.issues.map((issue) => `${issue.path.join('.') || '(row)'}: ${issue.message}`);
    super(`${query}: row ${index} does not fit the table's schema: ${problems.join('; ')}`);
    this.name = 'RowError';
  }
}

/**
 * A value written into the SQL as a quoted literal, for the one reason to: the embedded engine (chdb) runs bound
 * queries one at a time per process (it works around a libchdb race that way), unbound ones side by side. Only
 * values of Qingjian's own making, whose every character is checked here against `safe`, which must exclude quotes
 * and backslashes; anything else throws, and the caller binds instead.
 */
export function literal(value: string, safe: RegExp): string {
  if (!safe.test(value) || /['\\]/.test(value)) throw new Error(`not a literal of ${safe}: ${JSON.stringify(value).slice(0, 80)}`);
  return `'${value}'`;
}

/**
 * Values of a checked shape as an array literal (`literal` for each), or null when any is not of the shape: then
 * the caller binds them. For ids the service validated before it stored them (companies' credit codes, agencies'
 * identifiers), so that the engine's hottest reads run side by side instead of one at a time.
 */
export function literalList(values: readonly string[], safe: RegExp): string | null {
  try {
    const list = `[${values.map((v) => literal(v, safe)).join(', ')}]`;
    return list.length <= MAX_LITERAL_LIST ? list : null;
  } catch {
    return null;
  }
}

// ClickHouse refuses SQL longer than max_query_size (256 KiB by default); bound values do not count toward it.
const MAX_LITERAL_LIST = 64 * 1024;

/** The SELECT list for a row schema: its keys, in order, as the table's column names. */
export const columnsOf = (schema: z.ZodObject) => Object.keys(schema.shape).join(', ');

/**
 * Column types as ClickHouse returns them in JSONEachRow, from both adapters.
 * - DateTime64(3, 'UTC') prints as 'YYYY-MM-DD hh:mm:ss.sss' (see toClickHouseTime).
 * - Date prints as 'YYYY-MM-DD'.
 * - 64-bit integers are quoted by a server (output_format_json_quote_64bit_integers) and bare from chdb.
 */
/** A DateTime64(3) as ClickHouse prints it, and as toClickHouseTime writes it. */
export const CLICKHOUSE_TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/;

export const column = {
  time: z.string().regex(CLICKHOUSE_TIME, 'is not a DateTime64(3) as ClickHouse prints it'),
  date: z.string().regex(/^\d{4}-\d\d-\d\d$/, 'is not a Date as ClickHouse prints it'),
  uint64: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]).transform(Number),
  /** A String column holding JSON: parsed, then checked against the schema of what was written. */
  json: <T extends z.ZodType>(schema: T) => z.string().transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not JSON' });
      return z.NEVER;
    }
  }).pipe(schema),
};
