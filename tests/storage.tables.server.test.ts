import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServerStorage } from '../src/storage/server.js';
import { startClickHouseHttp } from './support/clickhouse-http.js';
import { describeTableModules } from './support/table-modules.js';

// The table modules through the server adapter (@clickhouse/client over HTTP) against the chdb HTTP shim,
// whose engine lives in this test process: 64-bit integers arrive quoted, as from a ClickHouse server.
describeTableModules('server adapter via the chdb HTTP shim', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'qingjian-tables-shim-'));
  const shim = await startClickHouseHttp({ dataDir, port: 0 });
  const storage = createServerStorage({ url: shim.url, database: 'default', username: 'default', password: '' });
  return {
    storage,
    async teardown() {
      await storage.close();
      await shim.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
});
