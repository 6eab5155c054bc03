import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEmbeddedStorage } from '../src/storage/embedded.js';
import { describeStorageContract } from './support/storage-contract.js';

// The embedded engine (chdb) in this test process: one data directory per process,
// so this file runs on its own (vitest pool 'forks').
describeStorageContract('embedded (chdb)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qingjian-embedded-'));
  const storage = createEmbeddedStorage(dir, 'default');
  return {
    storage,
    async teardown() {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

// The engine's allocator (jemalloc in libchdb) keeps freed pages 5 s: a backtest asks for them back after each slice.
describe("the embedded engine's freed memory", () => {
  const rssMiB = () => (Number(readFileSync('/proc/self/statm', 'utf8').split(' ')[1]) * 4096) / 1048576;

  it('goes back to the system when released, not seconds later', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qingjian-embedded-memory-'));
    const storage = createEmbeddedStorage(dir, 'default');
    try {
      // A million groups of strings: about 70 MiB of the engine's, freed when the query ends.
      await storage.query('SELECT count() AS n FROM (SELECT number % 1000000 AS k, groupArray(toString(number)) AS a FROM numbers(8000000) GROUP BY k)');
      const held = rssMiB();
      await storage.releaseMemory();
      expect(rssMiB()).toBeLessThan(held - 30);
      expect(await storage.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
