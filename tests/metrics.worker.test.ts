import { describe, expect, it } from 'vitest';
import { freePort } from '../src/redis/local-server.js';
import { scrape } from './support/prometheus.js';
import { startTestService } from './support/service.js';

// Its own file: a worker-only service needs the process's one embedded ClickHouse to itself.
describe('a worker-only process', () => {
  it('answers GET /metrics on METRICS_PORT, and nothing else there', async () => {
    const port = await freePort();
    const worker = await startTestService({ METRICS_PORT: String(port), RULES_WATCH: 'false' }, { api: false, worker: true });
    try {
      const m = await scrape(`http://127.0.0.1:${port}/metrics`);
      expect(m.samples.find((s) => s.name === 'qingjian_build_info')?.labels.role).toBe('worker');
      expect(m.types.get('qingjian_rule_evaluations_total')).toBe('counter');
      expect((await fetch(`http://127.0.0.1:${port}/v1/alerts`)).status).toBe(404);
    } finally {
      await worker.dispose();
    }
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });
});
