/**
 * `npm run bench:merge`: what one background merge of the events table holds, with the tables' compressed
 * blocks (migration 15: 128 KiB) and with ClickHouse's default (1 MiB), on the embedded engine. Seven parts of 5,000
 * rows each (the store worker's largest insert), one month: the merge ClickHouse picks first. The merge's memory is
 * sampled from system.merges as it runs, so the figure is a peak seen, not an exact one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Event } from '../src/ingest/schema.js';
import { createEmbeddedStorage } from '../src/storage/embedded.js';
import { migrate } from '../src/storage/migrations.js';
import type { Storage } from '../src/storage/port.js';
import { eventRows, type EventInsert } from '../src/storage/tables/events.js';
import { loadEvents } from './load-events.js';

const PARTS = 7;
const ROWS_PER_PART = 5_000;

async function mergePeak(storage: Storage, table: string, rows: EventInsert[]): Promise<{ peakMiB: number; algorithm: string; ms: number }> {
  await storage.command(`SYSTEM STOP MERGES ${table}`);
  for (let i = 0; i < PARTS; i++) await storage.insert(table, rows.slice(i * ROWS_PER_PART, (i + 1) * ROWS_PER_PART));
  const started = performance.now();
  await storage.command(`SYSTEM START MERGES ${table}`);
  let peak = 0;
  let algorithm = '';
  for (;;) {
    const [merge] = await storage.query<{ bytes: string; algorithm: string }>(
      'SELECT sum(memory_usage) AS bytes, any(merge_algorithm) AS algorithm FROM system.merges WHERE table = {t:String}', { t: table });
    if (Number(merge!.bytes) > peak) [peak, algorithm] = [Number(merge!.bytes), merge!.algorithm];
    const [parts] = await storage.query<{ n: string }>(
      'SELECT count() AS n FROM system.parts WHERE database = currentDatabase() AND table = {t:String} AND active', { t: table });
    if (Number(parts!.n) === 1) break;
    if (performance.now() - started > 60_000) throw new Error(`${table}: the parts were not merged in 60 s`);
  }
  return { peakMiB: Math.round(peak / 2 ** 20), algorithm, ms: Math.round(performance.now() - started) };
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'qingjian-merge-'));
  const storage = createEmbeddedStorage(dataDir, 'merge_bench');
  await migrate(storage);
  await storage.command('CREATE TABLE events_default_blocks AS events');
  await storage.command('ALTER TABLE events_default_blocks RESET SETTING max_compress_block_size');
  const receivedAt = new Date().toISOString();
  // One month, so that the seven parts are one partition's and one merge takes them all.
  const rows = loadEvents({ seed: 1, count: PARTS * ROWS_PER_PART, idPrefix: 'm' })
    .flatMap((e) => eventRows(Event.parse(e), receivedAt))
    .map((row) => ({ ...row, occurred_at: row.occurred_at.replace(/^\d{4}-\d{2}/, '2026-10') }));
  const results = {
    'events (128 KiB blocks, migration 15)': await mergePeak(storage, 'events', rows),
    'events (ClickHouse default, 1 MiB)': await mergePeak(storage, 'events_default_blocks', rows),
  };
  console.log(`\nOne merge of ${PARTS} parts × ${ROWS_PER_PART.toLocaleString('en')} event rows (embedded engine)\n`);
  console.table(Object.fromEntries(Object.entries(results).map(([k, r]) => [k, { 'peak MiB seen': r.peakMiB, algorithm: r.algorithm, 'ms until merged': r.ms }])));
  await storage.close();
  rmSync(dataDir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
