/**
 * Times every call the service makes to its storage, by kind (the context
 * reads of the rule engine, the alert reads and writes, the event inserts),
 * by wrapping the methods of the service's own Storage object: the workers
 * call through the same object, so nothing in src/ changes. Used by the rules
 * benchmark's --timings to show where the time between event and alert goes.
 * A call's time includes waiting for the engine (chdb runs parameterised
 * queries one at a time per process).
 */
import type { Storage } from '../src/storage/index.js';

export interface StorageCall {
  kind: string;
  /** performance.now() at the call and at its settlement. */
  start: number;
  ms: number;
  /** Rows returned (queries) or written (inserts). */
  rows: number;
}

const KINDS: Array<[RegExp, string]> = [
  [/FROM events FINAL\s+WHERE enterprise_id IN/, 'engine: read events'],
  [/FROM enterprises FINAL WHERE enterprise_id IN/, 'engine: read companies'],
  [/FROM agencies FINAL WHERE agency_id IN/, 'engine: read agency names'],
  [/FROM alerts FINAL WHERE enterprise_id IN/, 'engine: read alerts'],
];

function kindOf(sql: string): string {
  for (const [pattern, kind] of KINDS) if (pattern.test(sql)) return kind;
  return `other: ${sql.replace(/\s+/g, ' ').trim().slice(0, 60)}`;
}

export function recordStorageCalls(storage: Storage): { calls: StorageCall[]; stop(): void } {
  const calls: StorageCall[] = [];
  const original = { query: storage.query, insert: storage.insert };
  let recording = true;
  const record = (kind: string, start: number, rows: number) => {
    if (recording) calls.push({ kind, start, ms: performance.now() - start, rows });
  };
  const target = storage as { -readonly [K in keyof Storage]: Storage[K] };
  target.query = async function query<T>(sql: string, params?: Record<string, unknown>): Promise<T[]> {
    const start = performance.now();
    const rows = await original.query.call(storage, sql, params) as T[];
    record(kindOf(sql), start, rows.length);
    return rows;
  };
  target.insert = async (table, rows) => {
    const start = performance.now();
    await original.insert.call(storage, table, rows);
    record(`insert ${table}`, start, rows.length);
  };
  return {
    calls,
    stop() {
      recording = false;
      target.query = original.query;
      target.insert = original.insert;
    },
  };
}

export interface CallSummary {
  kind: string;
  calls: number;
  rows: number;
  totalMs: number;
  p50Ms: number;
  p99Ms: number;
}

/** Per kind over [from, to) (performance.now() times), busiest first. */
export function summarizeCalls(calls: readonly StorageCall[], from: number, to: number): CallSummary[] {
  const byKind = new Map<string, StorageCall[]>();
  for (const c of calls) {
    if (c.start < from || c.start >= to) continue;
    const own = byKind.get(c.kind);
    if (own) own.push(c);
    else byKind.set(c.kind, [c]);
  }
  return [...byKind].map(([kind, own]) => {
    const ms = own.map((c) => c.ms).sort((a, b) => a - b);
    const at = (p: number) => ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))]!;
    return {
      kind, calls: own.length, rows: own.reduce((s, c) => s + c.rows, 0),
      totalMs: Math.round(ms.reduce((s, m) => s + m, 0)), p50Ms: Math.round(at(50)), p99Ms: Math.round(at(99)),
    };
  }).sort((a, b) => b.totalMs - a.totalMs);
}
