import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
