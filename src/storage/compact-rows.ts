import { isAscii } from 'node:buffer';
import type { Row } from './port.js';

/**
 * Results in ClickHouse's JSONCompactEachRowWithNames: one line of column names, then each row's values as a JSON
 * array. The embedded engine answers every query so (`Storage.query`), and `Storage.queryCompact` hands the bytes
 * themselves to a caller that decodes them elsewhere (a backtest's slice thread). No engine here: a worker thread
 * may import this module (chdb in a worker aborts the process when the worker exits).
 *
 * Rows come as arrays and become objects here: the engine writes each row's keys in JSONEachRow, which took it about
 * 40% longer for the plan check's 3,000 rows of 34 columns (18 ms against 11).
 */
export const COMPACT_FORMAT = 'JSONCompactEachRowWithNames';
const NEWLINE = 0x0a;

/**
 * A result of ASCII alone is one string split into lines. Any other is decoded line by line straight from its
 * bytes (a newline byte is never inside a UTF-8 character, and JSON escapes those in strings): decoded whole, one
 * Chinese character made the whole result a string of two bytes a character, split after. Measured on a
 * backtest's rows (34 columns): 159,255 rows (48 MB) 490 ms decoded whole and split, 170 ms line by line; 1,000
 * rows 2.9-5.2 ms against 1.0-2.6; results of ASCII alone the same either way, 10 and 100 rows 9 and 87 µs.
 */
export function compactRows<T = Row>(bytes: Uint8Array): T[] {
  const rows: T[] = [];
  eachCompactRow<T>(bytes, (row) => rows.push(row));
  return rows;
}

/** The same, row by row, each dropped by the caller once used. */
export function eachCompactRow<T = Row>(bytes: Uint8Array, use: (row: T) => void): void {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerEnd = text.indexOf(NEWLINE);
  if (headerEnd <= 0) return;
  const toRow = rowMakerFor(text.toString('utf8', 0, headerEnd));
  const add = (line: string) => use(toRow(JSON.parse(line) as unknown[]) as T);
  if (isAscii(text)) {
    for (const line of text.toString('latin1', headerEnd + 1).split('\n')) if (line) add(line);
    return;
  }
  for (let start = headerEnd + 1; start < text.length; ) {
    let end = text.indexOf(NEWLINE, start);
    if (end < 0) end = text.length;
    if (end > start) add(text.toString('utf8', start, end));
    start = end + 1;
  }
}

// One maker per column list (the header line as the engine writes it), compiled once and reused by every result
// of that shape, so V8 optimises it; the service's queries have a few dozen shapes.
const makers = new Map<string, (values: readonly unknown[]) => Row>();
const MAX_MAKERS = 1_000;

function rowMakerFor(header: string): (values: readonly unknown[]) => Row {
  let maker = makers.get(header);
  if (!maker) {
    if (makers.size >= MAX_MAKERS) makers.clear();
    makers.set(header, (maker = rowMaker(JSON.parse(header) as string[])));
  }
  return maker;
}

/**
 * A function building one object literal from a row's values, its keys the result's column names (each a JSON
 * string literal, so any name is safe in the source): every row gets one shape at once. Assigning the keys one by
 * one from the list of names took 20% longer over a backtest's 202,269 rows of 34 columns (825 ms against 654).
 */
function rowMaker(names: readonly string[]): (values: readonly unknown[]) => Row {
  const fields = names.map((name, i) => `${JSON.stringify(name)}: values[${i}]`).join(', ');
  return new Function('values', `return { ${fields} };`) as (values: readonly unknown[]) => Row;
}
