import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedStorage } from '../src/storage/embedded.js';
import { describeTableModules } from './support/table-modules.js';

// The table modules against the embedded engine (chdb in this process).
describeTableModules('embedded (chdb)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qingjian-tables-'));
  const storage = createEmbeddedStorage(dir, 'default');
  return {
    storage,
    async teardown() {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
