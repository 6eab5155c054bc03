/**
 * `npm run chaos`: faults injected into a real deployment on this machine
 * (redis-server, the chdb ClickHouse HTTP shim, one API and two worker
 * processes) under steady traffic, each followed by recovery and a check that
 * every acknowledged event is stored exactly once, every expected alert exists
 * once and no ticket is duplicated. Prints a table, writes
 * bench/results/chaos.json, exits non-zero if any check fails.
 *
 *   npm run chaos                                  # every fault, 30 s outages (~7 min)
 *   npm run chaos -- --quick                       # 10 s outages, shorter phases (~3 min)
 *   npm run chaos -- --only redis-outage,redis-oom # some faults (ids in the table)
 *
 * Flags: --quick, --only <ids>, --rate <events/s> (300), --batch <events/request> (30), --outage <s> (30; --quick 10),
 * --pressure <s> (15; --quick 8), --kills (3), --workers (2), --appendfsync everysec|always (everysec, as shipped), --keep.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startCluster, ROOT, type Cluster } from './cluster.js';
import { FAULTS, type Check, type Fault, type FaultSettings } from './faults.js';
import { table, type PhaseResult } from './report.js';
import { AGENCIES, Ledger, phaseTraffic, retryUnacked, startTraffic, type PhaseTraffic, type Sender } from './traffic.js';
import { createProbe, expectationOf, type Probe } from './verify.js';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean' }, only: { type: 'string' }, rate: { type: 'string' }, batch: { type: 'string' }, outage: { type: 'string' },
    pressure: { type: 'string' }, kills: { type: 'string' }, workers: { type: 'string' }, appendfsync: { type: 'string' }, keep: { type: 'boolean' },
  },
});
const num = (value: string | undefined, fallback: number) => {
  const n = value === undefined ? fallback : Number(value);
  if (!(Number.isFinite(n) && n > 0)) throw new Error(`bad number: ${value}`);
  return n;
};
const quick = flags.quick ?? false;
const settings = {
  eventsPerSecond: num(flags.rate, 300),
  batch: num(flags.batch, 30),
  warmMs: quick ? 3_000 : 5_000,
  postMs: quick ? 4_000 : 8_000,
  workers: num(flags.workers, 2),
  fault: {
    outageMs: num(flags.outage, quick ? 10 : 30) * 1000,
    pressureMs: num(flags.pressure, quick ? 8 : 15) * 1000,
    kills: num(flags.kills, 3),
    lockMs: 3_000,
    stalledIntervalMs: 1_000,
    appendfsync: (flags.appendfsync ?? 'everysec') as FaultSettings['appendfsync'],
  } satisfies FaultSettings,
  recoveryTimeoutMs: 240_000,
  keep: flags.keep ?? false,
};
if (!['everysec', 'always'].includes(settings.fault.appendfsync)) throw new Error('--appendfsync must be everysec or always');
const only = flags.only?.split(',').map((s) => s.trim()).filter(Boolean);
const unknown = only?.filter((id) => !FAULTS.some((f) => f.id === id)) ?? [];
if (unknown.length) throw new Error(`unknown fault ${unknown.join(', ')}; known: ${FAULTS.map((f) => f.id).join(', ')}`);
const selected = FAULTS.filter((f) => !only || only.includes(f.id));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const runStarted = Date.now();
const progress = (text: string) => console.log(`· ${new Date().toISOString().slice(11, 19)} +${Math.round((Date.now() - runStarted) / 1000)}s ${text}`);

// ---------------------------------------------------------------- setup

const dir = mkdtempSync(join(tmpdir(), 'qingjian-chaos-'));
// A bearer token as the service's auth expects one (43 characters of base64url).
const token = randomBytes(32).toString('base64url');
let cluster: Cluster | null = null;
let probe: Probe | null = null;

async function cleanup() {
  await probe?.close().catch(() => {});
  await cluster?.stop().catch(() => {});
  if (settings.keep) console.log(`data and logs kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

async function request(method: 'PUT' | 'POST', path: string, body: unknown): Promise<void> {
  const res = await fetch(`${cluster!.apiUrl}${path}`, {
    method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${(await res.text()).slice(0, 300)}`);
}

// ---------------------------------------------------------------- one fault

async function runPhase(fault: Fault, digit: number): Promise<PhaseResult> {
  const { eventsPerSecond, batch, warmMs, postMs } = settings;
  // Room for the longest phase plus slack; the reference data names every company it may use.
  const budgetSeconds = (warmMs + postMs + settings.fault.outageMs + settings.fault.pressureMs) / 1000 + 150;
  const traffic: PhaseTraffic = phaseTraffic({ run: runId, phase: fault.id, digit, batch, maxRequests: Math.ceil((eventsPerSecond / batch) * budgetSeconds) });
  const enterprises = traffic.enterprises();
  for (let i = 0; i < enterprises.length; i += 5000) await request('PUT', '/v1/enterprises', enterprises.slice(i, i + 5000));

  const ledger = new Ledger();
  const sender: Sender = { url: cluster!.apiUrl, token, timeoutMs: 10_000 };
  let capped = false;
  progress(`[${fault.id}] ${fault.title}: traffic ${eventsPerSecond} events/s in requests of ${batch} (${enterprises.length} companies loaded)`);
  const run = startTraffic({ sender, traffic, ledger, eventsPerSecond, onCapReached: () => (capped = true) });
  await sleep(warmMs);

  const result: PhaseResult = {
    fault: fault.id, title: fault.title, eventsAcknowledged: 0, requests: 0, requestsRetried: 0, duplicatesOnRetry: 0, answers: {}, answerDetails: {},
    verification: null, recoveryMs: null, drainedMs: null, notes: [], checks: [], ok: false, details: {},
  };
  try {
    // Recovery: everything acknowledged until the fault ended must show up, while the traffic goes on. Watched from
    // the end the fault reports, which may come before inject returns.
    const watching: { from: number; recovered: Promise<number | null> | null } = { from: Number.NaN, recovered: null };
    const watchFrom = (from: number) => {
      const snapshot = expectationOf(ledger.acked(from));
      watching.from = from;
      watching.recovered = probe!.waitFor(traffic, snapshot, { drained: false, timeoutMs: settings.recoveryTimeoutMs, stop: () => watching.from !== from });
    };
    const window = await fault.inject({ cluster: cluster!, probe: probe!, settings: settings.fault, progress, ended: watchFrom });
    if (watching.from !== window.end) watchFrom(window.end);
    const recovered = watching.recovered!;
    await sleep(postMs);
    await run.stop();
    const stoppedAt = Date.now();
    progress(`[${fault.id}] traffic stopped: ${ledger.requests.length} requests, ${ledger.unacked().length} not acknowledged; retrying those with the same ids`);
    const allAcked = await retryUnacked(sender, ledger, 120_000);
    const expect = expectationOf(ledger.acked());
    const drainedAt = await probe!.waitFor(traffic, expect, { drained: true, timeoutMs: settings.recoveryTimeoutMs });
    const recoveredAt = await recovered;
    // Ingest is back when a request sent after the fault was acknowledged at once.
    const backAt = Math.min(...ledger.requests.filter((q) => q.attempts[0]!.at >= window.end && q.attempts[0]!.outcome === '202').map((q) => q.ackedAt!));
    result.recoveryMs = recoveredAt === null || !Number.isFinite(backAt) ? null : Math.max(recoveredAt, backAt) - window.end;
    result.drainedMs = drainedAt === null ? null : drainedAt - stoppedAt;
    progress(`[${fault.id}] recovered ${result.recoveryMs === null ? 'NOT' : `in ${(result.recoveryMs / 1000).toFixed(1)} s`}; verifying`);

    const v = await probe!.verify(traffic, expect);
    const exits = cluster!.takeUnexpectedExits();
    for (const p of cluster!.all()) if (await p.reviveIfDead()) progress(`  ${p.name} had died; started again`);
    const checks: Check[] = [
      { name: 'every request acknowledged in the end', ok: allAcked, detail: `${ledger.unacked().length} never acknowledged` },
      { name: 'every acknowledged event stored exactly once', ok: v.events.storedOnce === v.events.expected && v.events.missing === 0 && v.events.duplicated === 0,
        detail: `${v.events.storedOnce}/${v.events.expected}, ${v.events.missing} rows missing, ${v.events.duplicated} duplicated ${v.events.examples.join(' ')}` },
      { name: 'every expected alert exactly once, no other', ok: v.alerts.found === v.alerts.expected && v.alerts.duplicated === 0 && v.alerts.unexpected === 0,
        detail: `${v.alerts.found}/${v.alerts.expected}, ${v.alerts.duplicated} duplicated, ${v.alerts.unexpected} unexpected ${v.alerts.examples.join(' ')}` },
      { name: 'one ticket per complaint, none duplicated', ok: v.tickets.found === v.tickets.expected && v.tickets.duplicated === 0 && v.tickets.openedTwice === 0 && v.tickets.unexpected === 0,
        detail: `${v.tickets.found}/${v.tickets.expected}, ${v.tickets.duplicated} duplicated, ${v.tickets.openedTwice} opened twice, ${v.tickets.unexpected} unexpected ${v.tickets.examples.join(' ')}` },
      { name: 'each alert raised once on the feed', ok: v.feed.raisedOnce === v.feed.expected && v.feed.duplicated === 0, detail: `${v.feed.raisedOnce}/${v.feed.expected}, ${v.feed.duplicated} duplicated` },
      { name: 'no failed jobs', ok: v.failedJobs === 0, detail: String(v.failedJobs) },
      { name: 'recovered', ok: result.recoveryMs !== null && drainedAt !== null, detail: `recovery ${result.recoveryMs} ms, drained ${result.drainedMs} ms` },
      { name: 'no process died unexpectedly', ok: exits.length === 0, detail: exits.map((e) => `${e.name} (code ${e.code}, signal ${e.signal}): ${e.logTail.split('\n').at(-1)}`).join('; ') },
      ...window.judge(ledger),
    ];
    result.verification = v;
    result.notes = window.notes;
    result.details = { ...window.details, unexpectedExits: exits };
    result.checks = checks;
    if (capped) result.notes.push('traffic cap reached (phase ran longer than planned)');
  } catch (err) {
    result.error = (err as Error).stack ?? String(err);
    result.checks.push({ name: 'phase ran', ok: false, detail: (err as Error).message });
    await run.stop();
    // Leave the cluster whole for the next fault: every process up, no memory limit.
    for (const p of cluster!.all()) await p.reviveIfDead().catch((e: Error) => progress(`  could not restart ${p.name}: ${e.message}`));
    await probe!.redis.config('SET', 'maxmemory', '0').catch(() => {});
  }

  const acked = ledger.acked();
  result.requests = ledger.requests.length;
  result.eventsAcknowledged = acked.reduce((n, q) => n + q.plan.events.length, 0);
  const retried = ledger.requests.filter((q) => q.retryFrom !== null);
  result.requestsRetried = retried.length;
  result.duplicatesOnRetry = retried.reduce((n, q) => n + q.attempts.slice(q.retryFrom!).reduce((d, a) => d + (a.duplicates ?? 0), 0), 0);
  for (const q of ledger.requests) for (const a of q.attempts) if (a.outcome !== '202') result.answers[a.outcome] = (result.answers[a.outcome] ?? 0) + 1;
  result.answerDetails = ledger.details();
  result.ok = result.checks.every((c) => c.ok);
  for (const c of result.checks.filter((c) => !c.ok)) progress(`[${fault.id}] FAILED: ${c.name} — ${c.detail ?? ''}`);
  if (!result.ok) for (const p of cluster!.all()) console.log(`--- ${p.name} log tail ---\n${p.logTail(8)}`);
  return result;
}

// ---------------------------------------------------------------- main

const runId = `cx${Date.now().toString(36)}`;
const results: PhaseResult[] = [];
let exitCode = 1;
try {
  progress(`starting redis-server (appendfsync ${settings.fault.appendfsync}), the ClickHouse HTTP shim, 1 API and ${settings.workers} workers in ${dir}`);
  cluster = await startCluster({
    dir, token, appendfsync: settings.fault.appendfsync, workers: settings.workers,
    env: { WORKER_LOCK_MS: String(settings.fault.lockMs), WORKER_STALLED_INTERVAL_MS: String(settings.fault.stalledIntervalMs) },
  });
  probe = createProbe({ clickhouseUrl: cluster.clickhouseUrl, redisUrl: cluster.redisUrl, redisPrefix: cluster.redisPrefix });
  await request('PUT', '/v1/agencies', AGENCIES);
  progress(`cluster up: API ${cluster.apiUrl}, Redis ${cluster.redisUrl}, ClickHouse ${cluster.clickhouseUrl}`);

  // Each fault has its own digit in ids and credit codes, so a phase's data is selected by prefix.
  for (const fault of selected) results.push(await runPhase(fault, FAULTS.indexOf(fault) + 1));
  exitCode = results.every((r) => r.ok) ? 0 : 1;
} catch (err) {
  console.error(`chaos: ${(err as Error).stack ?? err}`);
} finally {
  await cleanup();
}

if (results.length) {
  console.log(`\n${table(results)}\n`);
  console.log(`Recovery: from the end of the fault (restart issued, outage over, limit lifted) until ingest acknowledged again and every event ` +
    `acknowledged until then was stored once, with its alert and ticket. Traffic ${settings.eventsPerSecond} events/s; ${cpus().length} cores.`);
  const out = join(ROOT, 'bench', 'results', 'chaos.json');
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ at: new Date().toISOString(), settings, results }, null, 2)}\n`);
  console.log(`written ${out}`);
}
console.log(exitCode === 0 ? 'chaos: every check passed' : 'chaos: FAILED');
process.exit(exitCode);
