import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startClickHouseHttp } from './support/clickhouse-http.js';
import { startTestService } from './support/service.js';
import { describeStatsOverDemo } from './support/stats-over-demo.js';

// The statistics through the server adapter (@clickhouse/client, as in production), here against the chdb HTTP
// shim: 64-bit integers arrive quoted, and the API's rows still equal the board's.
describeStatsOverDemo('the server adapter', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qingjian-stats-server-'));
  const clickhouse = await startClickHouseHttp({ dataDir: join(dir, 'clickhouse') });
  const service = await startTestService({ RULES_WATCH: 'false', CLICKHOUSE_URL: clickhouse.url }, { api: true, worker: true }, join(dir, 'service'));
  if (service.storage.kind !== 'server') throw new Error(`expected the server adapter, got ${service.storage.kind}`);
  return {
    ...service,
    async dispose() {
      await service.dispose();
      await clickhouse.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
