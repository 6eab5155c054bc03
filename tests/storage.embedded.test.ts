import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
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


// Its allocator (jemalloc in libchdb) reads JE_MALLOC_CONF as the library loads: src/storage/engine-memory.ts sets
// it before chdb is imported, unless the operator has. Checked in a process of its own, which loads chdb afresh.
describe("the embedded engine's allocator", () => {
  const embedded = pathToFileURL(join(import.meta.dirname, '..', 'src', 'storage', 'embedded.ts')).href;
  /** JE_MALLOC_CONF before and after a fresh process imports the embedded engine. */
  const aroundLoad = (env: NodeJS.ProcessEnv) => execFileSync(process.execPath, [
    '--import', 'tsx', '--input-type=module', '-e',
    `const before = process.env.JE_MALLOC_CONF ?? 'unset'; await import(${JSON.stringify(embedded)}); console.log(before, process.env.JE_MALLOC_CONF);`,
  ], { env, encoding: 'utf8' }).trim();
  const { JE_MALLOC_CONF: _inherited, ...unset } = process.env;

  it('gives freed pages back after a second, not five', () => {
    expect(aroundLoad(unset)).toBe('unset dirty_decay_ms:1000');
  });

  it("keeps the operator's own setting", () => {
    expect(aroundLoad({ ...unset, JE_MALLOC_CONF: 'dirty_decay_ms:5000' })).toBe('dirty_decay_ms:5000 dirty_decay_ms:5000');
  });
});
