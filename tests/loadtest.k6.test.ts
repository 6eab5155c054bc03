/**
 * The k6 script (loadtest/qingjian.js, lib/*.js) checked against k6's runtime rather than Node's, since no k6
 * binary runs here: a lint of what k6's engine (Sobek) lacks or treats differently (loadtest/eslint.config.js),
 * and runs in a plain `node:vm` context made to behave like Sobek, with a fake of the k6 modules
 * (tests/support/k6-vm.ts): setup, one iteration of each scenario, and handleSummary on a summary object of
 * k6's shape (tests/fixtures/k6/summary.json: built to k6's summarizeMetricsToObject, internal/js/summary.go).
 * Also: the README's k6 commands give the script its tokens, and the thresholds fail a run without alerts.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';
import { Metrics } from '../loadtest/node/metrics.js';
import { thresholdsPassed, type SummaryData } from '../loadtest/lib/summary.js';
import { createTraffic, newRun, TRIGGER_AGE_MS, type Plan } from '../loadtest/lib/traffic.js';
import { runK6Script, type FakeConnection, type K6VmSpec } from './support/k6-vm.js';

const ROOT = resolve(import.meta.dirname, '..');
const LOADTEST = join(ROOT, 'loadtest');
const CLOCK = Date.parse('2026-11-23T09:00:00+08:00');
const RANDOM = 0.5;
const plan = JSON.parse(readFileSync(join(LOADTEST, 'scenario.json'), 'utf8')) as Plan;
const recorded = JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/k6/summary.json'), 'utf8')) as SummaryData;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/**
 * The service's answers, with the rate-limit headers it sends (src/auth/rate-limit.ts): a sixth of a minute's
 * allowance per 10 s window, for an ingest token (120,000 a minute) and a person's (1,200).
 */
const limited = (perWindow: number) => ({ 'Ratelimit-Limit': String(perWindow), 'Ratelimit-Policy': `${perWindow};w=10` });
const SERVICE: K6VmSpec['http'] = {
  'PUT /v1/agencies': { status: 200, headers: limited(20_000) },
  'PUT /v1/enterprises': { status: 200, headers: limited(20_000) },
  'POST /v1/events': { status: 202, headers: limited(20_000) },
  'GET /v1/alerts': { status: 200, body: '{"items":[]}', headers: limited(200) },
  'GET /v1/hotline/tickets': { status: 200, body: '{"items":[]}', headers: limited(200) },
};

/**
 * The `-e` variables of each k6 command in loadtest/README.md, as k6 builds them (cmd/state/env.go
 * ParseEnvKeyValue: `-e NAME` alone is NAME=""), with the block's own shell variables given stand-in values.
 */
function readmeK6Commands(): Array<{ line: string; env: Record<string, string> }> {
  const readme = readFileSync(join(LOADTEST, 'README.md'), 'utf8');
  const commands: Array<{ line: string; env: Record<string, string> }> = [];
  for (const block of readme.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const lines = block[1]!.split('\n');
    const shell: Record<string, string> = {};
    for (const line of lines) {
      for (const m of line.matchAll(/(?:^|;\s*)([A-Z_]+)=\$\(token (\w+)\)/g)) shell[m[1]!] = `qjt_${m[2]}_${m[1]}`;
      if (!/\brun\b.*loadtest\/qingjian\.js/.test(line)) continue;
      const words = line.match(/"[^"]*"|\S+/g)!;
      const env: Record<string, string> = {};
      words.forEach((word, i) => {
        if (word !== '-e') return;
        const arg = words[i + 1]!;
        const at = arg.indexOf('=');
        const [name, raw] = at === -1 ? [arg, ''] : [arg.slice(0, at), arg.slice(at + 1)];
        const value = raw.replace(/^"|"$/g, '').replace(/\$\{?([A-Z_]+)\}?/g, (_, v: string) => {
          if (!(v in shell)) throw new Error(`README: '${line}' uses $${v}, which its block does not set`);
          return shell[v]!;
        });
        env[name] = value;
      });
      commands.push({ line, env });
    }
  }
  return commands;
}

/** The listener's alert message for trigger `number` of the batched scenario, as the feed sends it (README "Live feed"). */
function alertMessage(run: { id: string; nonce: string; started_at: number }, number: number, sentAt: number, seq: string) {
  const event = createTraffic(plan, run).event('b', number * plan.traffic.trigger_every, sentAt);
  return {
    v: 1, type: 'alert', seq, action: 'raised', actor: null,
    alert: { id: `al-${number}`, rule_id: 'no-plan', enterprise_id: event.enterprise_id, region: event.region, first_seen_at: event.occurred_at, revision: 1 },
  };
}

describe('the lint of the k6 files (loadtest/eslint.config.js)', () => {
  const eslint = new ESLint({ cwd: LOADTEST });

  it('passes qingjian.js and lib/*.js', async () => {
    const results = await eslint.lintFiles(['qingjian.js', 'lib/*.js']);
    expect(results.length).toBeGreaterThanOrEqual(4);
    expect(results.flatMap((r) => r.messages.map((m) => `${r.filePath}:${m.line} ${m.message}`))).toEqual([]);
  });

  it.each([
    ["const n = (1234).toLocaleString('en-US');", /toLocale/],
    ['const d = new Date().toLocaleDateString();', /toLocale/],
    ["const c = 'a'.localeCompare('b', 'zh');", /localeCompare/],
    ['const f = new Intl.NumberFormat();', /Intl/],
    ['const c = structuredClone({});', /structuredClone/],
    ["const r = fetch('http://x');", /fetch/],
    ['const e = process.env.TOKEN;', /Node global/],
    ["import { readFileSync } from 'node:fs';", /k6 modules and relative files only/],
    ["import ws from 'k6/websockets';", /k6\/ws/],
    ['const x = await Promise.resolve(1);', /top-level await/],
    ['let a = null; a ??= 1;', /logical assignment/],
    ['const n = 1_000;', /numeric separators/],
    ['const r = /a.b/s;', /flags s, d and v/],
    ['const s = [3, 1].toSorted();', /toSorted/],
    ['const b = 10n;', /BigInt/],
    ['const u = new URL("http://x");', /URL/],
  ])('refuses %s', async (code, message) => {
    const [result] = await eslint.lintText(`${code}\nexport default 0;\n`, { filePath: join(LOADTEST, 'lib/snippet.js') });
    expect(result!.messages.map((m) => m.message).join('\n')).toMatch(message);
  });
});

describe('the k6 script in a node:vm context with k6 faked', () => {
  const commands = readmeK6Commands();

  it('the README runs k6 locally and in the grafana/k6 image, each passing every token as -e NAME=value', () => {
    expect(commands.map((c) => (c.line.startsWith('docker run') ? 'image' : c.line.startsWith('k6 run') ? 'local' : c.line))).toEqual(['local', 'image']);
    for (const { line, env } of commands) {
      for (const role of ['INGEST', 'FEED', 'READ', 'HOTLINE']) expect(env[`${role}_TOKEN`], `${role}_TOKEN in: ${line}`).toMatch(/^qjt_/);
    }
    expect(commands[1]!.line).toMatch(/--user "12345:\$\(id -g\)"/);
  });

  it('runs setup, an iteration of each scenario, and handleSummary as k6 would, with the README\'s environment', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'qj-k6vm-'));
    dirs.push(cwd);
    mkdirSync(join(cwd, 'loadtest/results'), { recursive: true });
    const env = commands[0]!.env;
    const run = newRun(CLOCK, RANDOM);
    const sentAt = CLOCK + 20_000;
    // Listener VU 2 watches regions[2] (370612): city 3706, which gets trigger numbers 0, 2, 4, 6, …
    const feed: FakeConnection[] = [
      {
        status: 101,
        messages: [
          { afterMs: 0, data: { v: 1, type: 'hello', latest_seq: '100-0' } },
          { afterMs: 5, data: { v: 1, type: 'caught_up', seq: '100-0' } },
          { afterMs: 20_000, data: alertMessage(run, 0, sentAt, '101-0') },
          { afterMs: 10, data: alertMessage({ ...run, nonce: '11' }, 0, sentAt, '102-0') },
          { afterMs: 10, data: alertMessage(run, 4, sentAt, '103-0') },
        ],
        end: { by: 'server', code: 4008 },
      },
      { status: 503 },
      {
        status: 101,
        messages: [
          { afterMs: 0, data: { v: 1, type: 'hello', latest_seq: '104-0' } },
          { afterMs: 0, data: alertMessage(run, 4, sentAt, '103-0') },
          { afterMs: 50, data: alertMessage(run, 6, sentAt, '104-0') },
          { afterMs: 0, data: { v: 1, type: 'caught_up', seq: '104-0' } },
        ],
        end: { by: 'listener' },
      },
    ];
    const result = await runK6Script({
      script: 'loadtest/qingjian.js', env, clock: CLOCK, random: RANDOM, http: SERVICE, feed, summary: recorded, cwd,
      calls: [
        { fn: 'feed', scenario: 'feed', vu: 2 },
        { fn: 'ingestSingle', scenario: 'ingest_single', iterationInTest: 0 },
        { fn: 'ingestBatch', scenario: 'ingest_batch', iterationInTest: 0 },
        ...[0, 1, 2, 3].map((i) => ({ fn: 'reads', scenario: 'reads', iterationInTest: i })),
      ],
    });
    expect(result.initError).toBeUndefined();
    expect(result.aborted).toBeUndefined();
    expect(result.errors).toEqual([]);
    expect(result.setupData!.run).toEqual(run);

    // Every request carries its role's token, never "Bearer undefined" or an empty one.
    const tokenOf = (url: string, method: string) => result.requests.find((r) => r.method === method && r.url.includes(url))!.headers.authorization;
    expect(tokenOf('/v1/agencies', 'PUT')).toBe(`Bearer ${env.INGEST_TOKEN}`);
    expect(tokenOf('/v1/events', 'POST')).toBe(`Bearer ${env.INGEST_TOKEN}`);
    expect(tokenOf('/v1/alerts?rule=', 'GET')).toBe(`Bearer ${env.READ_TOKEN}`);
    expect(tokenOf('/v1/hotline/tickets?limit=50', 'GET')).toBe(`Bearer ${env.HOTLINE_TOKEN}`);
    expect(result.connections.every((c) => c.headers.authorization === `Bearer ${env.FEED_TOKEN}`)).toBe(true);
    expect(result.requests.filter((r) => r.tags.name !== 'setup').map((r) => `${r.method} ${r.tags.name}`))
      .toEqual(['POST events', 'POST events', 'GET alerts', 'GET alerts_filtered', 'GET timeline', 'GET tickets']);
    const [single, batch] = result.requests.filter((r) => r.tags.name === 'events').map((r) => JSON.parse(r.body!));
    expect(Array.isArray(single)).toBe(false);
    expect(batch).toHaveLength(plan.traffic.batch_size);
    const count = (name: string) => (result.samples[name] ?? []).reduce((n, s) => n + s.value, 0);
    expect(count('events_sent')).toBe(1 + plan.traffic.batch_size);
    expect(count('events_acked')).toBe(1 + plan.traffic.batch_size);

    // The listener: dropped by the server (4008), refused once, resumed after the last seq it saw; closes after the
    // scenario's end (100 s + 1 s), so k6 starts no new iteration; counted what it missed (trigger 2 of its city).
    expect(result.connections.map((c) => c.sent.map((s) => JSON.parse(s).after))).toEqual([[null], [], ['103-0']]);
    expect(JSON.parse(result.connections[0]!.sent[0]!).filters).toEqual({ rule: ['no-plan'], region: '3706' });
    expect(result.connections.map((c) => c.closedWith)).toEqual([4008, null, 1001]);
    expect(result.connections[2]!.closedAt).toBe(CLOCK + 100_000 + 1000);
    expect(result.sleeps).toEqual([0.375, 0.75]);
    expect(count('feed_dropped')).toBe(1);
    expect(count('feed_connect_failed')).toBe(1);
    expect(count('alerts_received')).toBe(3);
    expect(count('feed_alerts_missed')).toBe(1);
    const latencies = result.samples.alert_latency!.map((s) => s.value);
    // Receipt − the moment the trigger was sent (its event time + TRIGGER_AGE_MS); trigger 6 after 0.375 + 0.75 s of backoff.
    expect(latencies).toEqual([5, 25, 1200]);
    expect(Math.max(...latencies)).toBeLessThan(TRIGGER_AGE_MS);

    // handleSummary, in a fresh VU, on k6's summary shape: the report on stdout and summary.json where k6 writes it.
    expect(result.summaryError).toBeUndefined();
    const stdout = result.summaryResult!.stdout!;
    expect(stdout).toContain('清检 Qingjian load test — run mwm0nk7455');
    expect(stdout).toMatch(/ingest_batch\s+28,000 events acknowledged\s+400 events\/s\s+HTTP p50 20\.1 ms {2}p99 35\.0 ms/);
    expect(stdout).toMatch(/event → alert on a WebSocket listener: p50 272\.0 ms, p90 402\.7 ms, p99 484\.0 ms, max 1\.18 s \(175,000 receipts\)/);
    expect(stdout).toMatch(/✓ alerts_received\s+'count>0'\s+count=175,000/);
    expect(stdout).toContain('feed connections: failed 0, closed by the server 0; alerts the listeners missed: 0');
    expect(stdout).toContain('result: every threshold met');
    const written = JSON.parse(readFileSync(join(cwd, 'loadtest/results/summary.json'), 'utf8'));
    expect(written).toEqual(recorded);
  });

  it('reports a failed threshold as failed, and says so when handleSummary gets the machine-readable shape', async () => {
    const failed = structuredClone(recorded);
    failed.metrics['http_req_duration{scenario:reads}']!.thresholds = { 'p(99)<1000': { ok: false } };
    expect(thresholdsPassed(recorded)).toBe(true);
    expect(thresholdsPassed(failed)).toBe(false);
    const env = commands[0]!.env;
    const result = await runK6Script({ script: 'loadtest/qingjian.js', env, clock: CLOCK, random: RANDOM, http: SERVICE, summary: failed, cwd: ROOT, calls: [] });
    expect(result.summaryResult!.stdout).toMatch(/✗ http_req_duration\{scenario:reads\}\s+'p\(99\)<1000'\s+p\(99\)=388\.7 ms/);
    expect(result.summaryResult!.stdout).toContain('result: THRESHOLDS FAILED');
    const other = await runK6Script({ script: 'loadtest/qingjian.js', env, clock: CLOCK, random: RANDOM, http: SERVICE, summary: { version: '1.0', results: {} }, cwd: ROOT, calls: [] });
    expect(other.summaryError).toMatch(/--new-machine-readable-summary/);
  });

  it('stops at init, naming the variables, when k6 gets `-e NAME` without a value', async () => {
    // k6 sets a bare `-e INGEST_TOKEN` to "" (ParseEnvKeyValue), hiding an exported INGEST_TOKEN.
    const env = { BASE_URL: 'http://localhost:8080', INGEST_TOKEN: '', FEED_TOKEN: '', READ_TOKEN: '', HOTLINE_TOKEN: '' };
    const result = await runK6Script({ script: 'loadtest/qingjian.js', env, clock: CLOCK, random: RANDOM, http: SERVICE, calls: [] });
    expect(result.initError).toMatch(/no token for INGEST, FEED, READ, HOTLINE: pass -e INGEST_TOKEN=<ingest token>/);
    expect(result.requests).toEqual([]);
  });

  it('stops in setup when one admin TOKEN would exceed its rate limit, before any load', async () => {
    const result = await runK6Script({
      script: 'loadtest/qingjian.js', env: { TOKEN: 'qjt_admin' }, clock: CLOCK, random: RANDOM, calls: [],
      http: { ...SERVICE, 'PUT /v1/agencies': { status: 200, headers: limited(200) } },
    });
    expect(result.aborted).toMatch(/the token of INGEST and READ and HOTLINE may make 1200 requests a minute, this scenario makes 6840/);
  });

  it('fails the run when no alert arrived or a listener missed one: the thresholds of every scenario file', async () => {
    const result = await runK6Script({ script: 'loadtest/qingjian.js', env: commands[0]!.env, clock: CLOCK, random: RANDOM, http: SERVICE, calls: [] });
    const thresholds = result.options!.thresholds;
    // A run where everything else went well: requests fast and answered, nothing dropped.
    const judge = (alerts: number, missed: number) => {
      const metrics = new Metrics(thresholds);
      for (const scenario of ['ingest_single', 'ingest_batch', 'reads']) {
        metrics.add('http_req_duration', 5, { scenario });
        metrics.add('http_req_failed', 0, { scenario });
        metrics.add('events_acked', 100, { scenario });
      }
      for (let i = 0; i < alerts; i++) metrics.add('alert_latency', 200);
      metrics.add('alerts_received', alerts);
      metrics.add('feed_alerts_missed', missed);
      return metrics.summary(100_000, {});
    };
    expect(thresholdsPassed(judge(10, 0))).toBe(true);
    const silent = judge(0, 0);
    // k6 reads an empty trend as 0: the latency thresholds alone would pass.
    expect(silent.metrics.alert_latency!.thresholds).toEqual({ 'p(50)<1000': { ok: true }, 'p(99)<2500': { ok: true } });
    expect(thresholdsPassed(silent)).toBe(false);
    expect(thresholdsPassed(judge(10, 1))).toBe(false);
    for (const file of ['scenario.json', 'knee-batch.json', 'knee-single.json']) {
      const t = (JSON.parse(readFileSync(join(LOADTEST, file), 'utf8')) as Plan).options.thresholds;
      expect(t.alerts_received, file).toEqual(['count>0']);
      expect(t.feed_alerts_missed, file).toEqual(['count==0']);
    }
  });
});
