import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { startCluster, ROOT, type Cluster } from '../chaos/cluster.js';
import { DAY } from '../src/calendar/index.js';
import { createWorld, generateEvents } from '../src/demo/index.js';
import { freePort } from '../src/redis/local-server.js';
import { connectFeed, type FeedClient } from './support/feed-client.js';
import { dashboardShape, loadDashboardFiles, prometheusQueries, promqlMetricNames } from './support/grafana.js';
import { auth, eventually, TEST_TOKEN } from './support/service.js';

/**
 * The service-health board's PromQL, proven by the real Prometheus (Debian's 2.42): it scrapes a running
 * Qingjian, an API process and a worker-only process, with the jobs of deploy/prometheus/prometheus.yml, and
 * answers every expression of the board through its HTTP API after traffic.
 */

const CONFIG = join(ROOT, 'deploy', 'prometheus', 'prometheus.yml');
const BOARD = 'service-health.json';
const queries = prometheusQueries(BOARD, dashboardShape.parse(loadDashboardFiles(join(ROOT, 'dashboards')).find((f) => f.file === BOARD)!.json));
// Grafana's $__rate_interval for a 1 s scrape is at least four scrapes; a longer window keeps the traffic in view.
const RATE_INTERVAL = '1m';

describe('deploy/prometheus/prometheus.yml', () => {
  it('passes promtool check config', () => {
    const check = spawnSync('promtool', ['check', 'config', CONFIG], { encoding: 'utf8' });
    expect(check.stderr + check.stdout).toContain('SUCCESS');
    expect(check.status).toBe(0);
  });
});

describe('the service-health board, evaluated by Prometheus against a running Qingjian', () => {
  let dir: string;
  let cluster: Cluster;
  let prometheus: ChildProcess;
  let prometheusUrl: string;
  let feed: FeedClient;

  /** The shipped config with its jobs and paths, each job pointed at this test's processes and scraped every second. */
  function scrapeConfig(targets: Record<string, string>): string {
    const config = parseYaml(readFileSync(CONFIG, 'utf8')) as { global: Record<string, string>; scrape_configs: Array<Record<string, unknown>> };
    config.global = { ...config.global, scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' };
    config.scrape_configs = config.scrape_configs.map(({ dns_sd_configs: _dns, static_configs: _static, ...job }) => {
      const target = targets[job.job_name as string];
      if (!target) throw new Error(`no test target for job ${String(job.job_name)}`);
      return { ...job, static_configs: [{ targets: [target] }] };
    });
    return stringifyYaml(config);
  }

  async function promql(query: string): Promise<{ status: string; error?: string; data?: { result: unknown[] } }> {
    const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
    return res.json() as Promise<{ status: string; error?: string; data?: { result: unknown[] } }>;
  }

  async function send(method: string, path: string, body: unknown): Promise<void> {
    const res = await fetch(`${cluster.apiUrl}${path}`, { method, headers: { 'content-type': 'application/json', ...auth() }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qingjian-prometheus-'));
    cluster = await startCluster({
      dir, token: TEST_TOKEN, appendfsync: 'everysec', workers: 1,
      // Tickets miss their acceptance deadline within seconds, so the SLA counter moves.
      env: { STORE_BATCH_WAIT_MS: '20', METRICS_SAMPLE_MS: '500', HOTLINE_ACCEPT_SLA_MINUTES: '0.05', HOTLINE_ALWAYS_WORKING: 'true' },
    });
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    const configFile = join(dir, 'prometheus.yml');
    writeFileSync(configFile, scrapeConfig({
      'qingjian-api': new URL(cluster.apiUrl).host,
      'qingjian-worker': new URL(cluster.workerMetricsUrls[0]!).host,
    }));
    prometheus = spawn('prometheus', [
      `--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`,
    ], { stdio: 'ignore' });
    await eventually(async () => ((await fetch(`${prometheusUrl}/-/ready`).catch(() => null))?.ok ? true : undefined), 30_000, 'Prometheus ready');

    // Traffic: a month of 德州 and 烟台 visits ending now, once more as duplicates, a silence that holds some alerts
    // back, and a feed listener.
    feed = await connectFeed(cluster.apiUrl);
    feed.subscribe();
    const world = createWorld({ seed: 5, enterprisesPerRegion: 20, regions: ['371400', '370600'] });
    await send('PUT', '/v1/enterprises', world.enterprises);
    await send('PUT', '/v1/agencies', world.agencies);
    await send('POST', '/v1/silences', { matchers: { region: '3706' }, reason: '演练', duration_minutes: 60 });
    const to = new Date();
    const events = generateEvents(world, { seed: 3, from: new Date(to.getTime() - 30 * DAY), to, visitsPerDay: 20, violationRate: 0.3, idPrefix: 'prom' });
    for (let i = 0; i < events.length; i += 200) await send('POST', '/v1/events', events.slice(i, i + 200));
    await send('POST', '/v1/events', events.slice(0, 50));
    await feed.next((m) => m.type === 'alert', 60_000, 'an alert on the feed');
  }, 180_000);

  afterAll(async () => {
    feed?.close();
    prometheus?.kill('SIGTERM');
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes both processes', async () => {
    const up = await eventually(async () => {
      const res = await promql('up');
      const series = (res.data?.result ?? []) as Array<{ metric: { job: string }; value: [number, string] }>;
      return series.length === 2 && series.every((s) => s.value[1] === '1') ? series : undefined;
    }, 30_000, 'both targets up');
    expect(up.map((s) => s.metric.job).sort()).toEqual(['qingjian-api', 'qingjian-worker']);
  });

  it('evaluates every expression of the board without an error', async () => {
    expect(queries.length).toBeGreaterThan(20);
    const failures: string[] = [];
    for (const { where, target } of queries) {
      const res = await promql(target.expr.replaceAll('$__rate_interval', RATE_INTERVAL));
      if (res.status !== 'success') failures.push(`${where}: ${res.error}`);
    }
    expect(failures).toEqual([]);
  });

  it('has series for every metric the board names, once traffic has run', async () => {
    const names = [...new Set(queries.flatMap(({ target }) => promqlMetricNames(target.expr)))].sort();
    expect(names.length).toBeGreaterThan(15);
    const missing = await eventually(async () => {
      const empty: string[] = [];
      for (const name of names) if (((await promql(name)).data?.result ?? []).length === 0) empty.push(name);
      return empty.length === 0 ? empty : undefined;
    }, 30_000, 'series for every metric').catch(async () => {
      const empty: string[] = [];
      for (const name of names) if (((await promql(name)).data?.result ?? []).length === 0) empty.push(name);
      return empty;
    });
    expect(missing).toEqual([]);
  });
});
