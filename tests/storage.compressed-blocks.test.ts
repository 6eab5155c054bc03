import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEmbeddedStorage } from '../src/storage/embedded.js';
import { MIGRATIONS, migrate } from '../src/storage/migrations.js';

/**
 * Migration 15: every table writes its parts in compressed blocks of at most 128 KiB, not ClickHouse's 1 MiB. A
 * part's writer holds one such buffer per column, so this is what bounds a merge's memory in the embedded engine
 * (docs/performance.md, 2026-12-07). Checked on the real engine, on the tables as migrate() leaves them.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'qingjian-blocks-'));
const storage = createEmbeddedStorage(dataDir, 'blocks');
afterAll(async () => {
  await storage.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const createdTables = MIGRATIONS.flatMap((m) => m.statements).flatMap((s) => /CREATE TABLE IF NOT EXISTS (\w+)/.exec(s)?.[1] ?? []);

describe('compressed blocks of the tables', () => {
  it('every table the migrations create writes blocks of at most 128 KiB; the ledger keeps the default', async () => {
    await migrate(storage);
    const tables = await storage.query<{ name: string; create_table_query: string }>(
      'SELECT name, create_table_query FROM system.tables WHERE database = currentDatabase()');
    expect(tables.map((t) => t.name).sort()).toEqual([...createdTables, 'schema_migrations'].sort());
    for (const name of createdTables) {
      const sql = tables.find((t) => t.name === name)!.create_table_query;
      expect(sql, name).toMatch(/SETTINGS .*max_compress_block_size = 131072/);
    }
    expect(tables.find((t) => t.name === 'schema_migrations')!.create_table_query).not.toMatch(/max_compress_block_size/);
    // Without the setting a part is written in ClickHouse's default blocks, which the migration changes.
    const [fallback] = await storage.query<{ value: string }>("SELECT value FROM system.settings WHERE name = 'max_compress_block_size'");
    expect(Number(fallback!.value)).toBe(1_048_576);
  });
});
