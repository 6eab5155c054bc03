import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../chaos/cluster.js';
import { bullPrefix, QUEUES } from '../src/queues/index.js';
import { CLEARED, deliverable, type Alert } from '../src/alerts/index.js';
import { DAY } from '../src/calendar/index.js';
import { feedStream } from '../src/feed/journal.js';
import { createRandom, createWorld, generateEvents } from '../src/demo/index.js';
import { Event, type EventInput } from '../src/ingest/schema.js';
import { companyFacts } from '../src/rules/events.js';
import { complaintsGoTo, loadRuleSet } from '../src/rules/load.js';
import { simulate } from '../src/rules/simulate.js';
import { createServerStorage } from '../src/storage/server.js';
import type { Storage } from '../src/storage/index.js';
import { auth, get, startTestService, TEST_TOKEN, type TestService } from './support/service.js';

/**
 * Multi-process mode: two API and two worker processes (real child processes,
 * chaos/cluster.ts) against one redis-server and one ClickHouse endpoint (the
 * chdb HTTP shim) end with exactly the alerts one process (API and workers
 * in-process, embedded ClickHouse) ends with, each stored, delivered and
 * ticketed once — although the cluster gets the requests spread over both
 * APIs, concurrently, in another order, some of them twice at once.
 *
 * "The same alerts" is every alert that stands (open, not cleared) with its
 * id (= fingerprint), rule, variant, company, agency, severity, status, count,
 * first/last seen and evidence ids, which must also be what the in-memory
 * engine decides for in-order arrival. Alerts a late event cleared again are
 * not compared: events arriving out of order raise transient alerts, and
 * which ones depends on the order (each deployment gets its own shuffle);
 * likewise which alerts were inhibited when raised, so whether their first
 * revision went out on the feed. Equal standing sets also mean an alert
 * standing in one deployment is never cleared or missing in the other.
 *
 * The workload is the demo simulation over a month that ended at least three
 * weeks ago, so every decision the rules defer (an hour's lateness, 12 hours
 * for an exit scan, 30 minutes for a green-channel entry) is already due on
 * arrival: both deployments see the same inputs whatever the wall clock says.
 * Its two cities hold different rules (rules/regions.yaml): 德州 frequent
 * visits, entry and exit scans, complaints to the feed; 烟台 no-plan with the
 * green channel, entry scans, complaints to 12345 and the feed.
 */

// ---------------------------------------------------------------- the workload

const ID_PREFIX = 'mp';
const world = createWorld({ seed: 77, enterprisesPerRegion: 60, regions: ['371400', '370600'] });
// The month before last (Shanghai): complete quiet periods, every deadline long past.
const TO = (() => {
  const now = new Date(Date.now() + 8 * 3600_000);
  const first = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1);
  return first - 8 * 3600_000;
})();
const inputs: EventInput[] = generateEvents(world, {
  seed: 5, from: new Date(TO - 30 * DAY), to: new Date(TO), visitsPerDay: 30, violationRate: 0.3, idPrefix: ID_PREFIX,
});
const ruleSet = await loadRuleSet(join(import.meta.dirname, '..', 'rules'));
const complaints = inputs.filter((e) => e.type === 'complaint');
// A 12345 ticket for each complaint about a company whose home region sends complaints to the hotline (烟台, not 德州).
const homeOf = new Map(world.enterprises.map((c) => [c.enterprise_id, c.region]));
const ticketedComplaintIds = complaints.filter((e) => complaintsGoTo(ruleSet, homeOf.get(e.enterprise_id)!, 'hotline')).map((e) => e.id);
// The rules in force in the two cities (德州 3714, 烟台 3706): every one of them stands somewhere.
const RULES_IN_FORCE = ['complaint-received', 'entry-without-scan', 'exit-without-scan', 'frequent-visits', 'no-plan'];
const expectedRows = inputs.reduce((n, e) => n + (e.type === 'plan' ? new Set(e.enterprise_ids).size : 1), 0);

interface Request {
  method: 'PUT' | 'POST';
  path: string;
  body: string;
  /** Sent a second time with the same ids: at once to the other API, or after everything else (a client's retry). */
  twin?: 'concurrent' | 'retry';
}

/** Reference data first (an evaluation reads it), then the events shuffled in requests of 50, one in eight sent twice. */
function requests(seed: number): { reference: Request[]; events: Request[] } {
  const random = createRandom(seed);
  const reference: Request[] = [];
  for (let i = 0; i < world.enterprises.length; i += 40) {
    reference.push({ method: 'PUT', path: '/v1/enterprises', body: JSON.stringify(world.enterprises.slice(i, i + 40)) });
  }
  reference.push({ method: 'PUT', path: '/v1/agencies', body: JSON.stringify(world.agencies) });
  const shuffled = random.shuffle(inputs);
  const events: Request[] = [];
  for (let i = 0; i < shuffled.length; i += 50) {
    const roll = random.next();
    events.push({
      method: 'POST', path: '/v1/events', body: JSON.stringify(shuffled.slice(i, i + 50)),
      twin: roll < 0.07 ? 'concurrent' : roll < 0.14 ? 'retry' : undefined,
    });
  }
  return { reference, events };
}

// ---------------------------------------------------------------- a deployment

interface Deployment {
  apiUrls: string[];
  storage: Storage;
  redis: Redis;
  redisPrefix: string;
  queues: Queue[];
}

function deployment(apiUrls: string[], storage: Storage, redisUrl: string, redisPrefix: string): Deployment {
  const redis = new Redis(redisUrl);
  const queues = [QUEUES.store.name, QUEUES.evaluate.name, QUEUES.hotline.name, QUEUES.escalation.name]
    .map((name) => new Queue(name, { connection: redis, prefix: bullPrefix(redisPrefix) }));
  return { apiUrls, storage, redis, redisPrefix, queues };
}

async function closeDeployment(d: Deployment | undefined) {
  if (!d) return;
  for (const q of d.queues) await q.close();
  d.redis.disconnect();
}

async function send(url: string, r: Request): Promise<void> {
  const res = await fetch(`${url}${r.path}`, { method: r.method, headers: { 'content-type': 'application/json', ...auth() }, body: r.body });
  const text = await res.text();
  const expected = r.method === 'PUT' ? 200 : 202;
  if (res.status !== expected) throw new Error(`${r.method} ${url}${r.path}: ${res.status} ${text.slice(0, 300)}`);
}

/** Request i goes to API i mod n, 4 in flight; a twin goes to the next API, at once or at the end. */
async function drive(d: Deployment, list: { reference: Request[]; events: Request[] }) {
  const urls = d.apiUrls;
  const run = async (items: Request[], extra: (r: Request, i: number) => Promise<void>) => {
    let next = 0;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < items.length) {
        const i = next++;
        const r = items[i]!;
        await Promise.all([send(urls[i % urls.length]!, r), extra(r, i)]);
      }
    }));
  };
  await run(list.reference, async () => {});
  await run(list.events, async (r, i) => (r.twin === 'concurrent' ? send(urls[(i + 1) % urls.length]!, r) : undefined));
  const retries = list.events.map((r, i) => [r, i] as const).filter(([r]) => r.twin === 'retry');
  await Promise.all(retries.map(([r, i]) => send(urls[(i + 1) % urls.length]!, r)));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Until every event is stored, the queues hold nothing due, and the alerts and the feed have not changed for 2 s. */
async function settle(d: Deployment, timeoutMs: number): Promise<void> {
  const [store, evaluate, hotline] = d.queues as [Queue, Queue, Queue];
  const deadline = Date.now() + timeoutMs;
  let last = '';
  let since = 0;
  let state = '';
  while (Date.now() < deadline) {
    const [[stored], [alerts], feed, s, e, h] = await Promise.all([
      d.storage.query<{ n: string }>('SELECT uniqExact(id) AS n FROM events WHERE startsWith(id, {p:String})', { p: `${ID_PREFIX}-` }),
      d.storage.query<{ n: string; r: string }>('SELECT count() AS n, sum(revision) AS r FROM alerts FINAL'),
      d.redis.xlen(feedStream(d.redisPrefix)),
      store.getJobCounts('wait', 'active', 'prioritized', 'delayed'),
      // Delayed evaluations are companies handed back while another worker held them, or due decisions.
      evaluate.getJobCounts('wait', 'active', 'prioritized', 'delayed'),
      // The hotline's delayed jobs are SLA deadlines hours away: not work in hand.
      hotline.getJobCounts('wait', 'active', 'prioritized'),
    ]);
    const busy = [s, e, h].reduce((n, c) => n + Object.values(c).reduce((a, b) => a + b, 0), 0);
    state = `stored ${stored!.n}/${inputs.length}, queued ${busy}, alerts ${alerts!.n} (revisions ${alerts!.r}), feed ${feed}`;
    if (Number(stored!.n) === inputs.length && busy === 0) {
      const signature = `${alerts!.n} ${alerts!.r} ${feed}`;
      if (signature !== last) [last, since] = [signature, Date.now()];
      else if (Date.now() - since >= 2_000) return;
    } else last = '';
    await sleep(250);
  }
  throw new Error(`did not settle in ${timeoutMs / 1000} s: ${state}`);
}

/** Every alert through the API (admin token), page by page. */
async function listAlerts(url: string): Promise<Alert[]> {
  const out: Alert[] = [];
  for (let cursor: string | null = null; ;) {
    const res = await get(`${url}/v1/alerts?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(res.status).toBe(200);
    out.push(...res.body.items);
    cursor = res.body.next_cursor;
    if (!cursor) return out;
  }
}

interface Outcome {
  alerts: Alert[];
  /** The comparable state of every alert that stands (not cleared by later evidence). */
  standing: string[];
  cleared: number;
  raisedOnFeed: number;
  inhibited: number;
  complaintTickets: number;
  alertTickets: number;
}

const summary = (a: Pick<Alert, 'id' | 'fingerprint' | 'rule_id' | 'variant' | 'enterprise_id' | 'agency_id' | 'severity' | 'count' | 'first_seen_at' | 'last_seen_at' | 'evidence'> & { status?: string }) =>
  `${a.rule_id}/${a.variant} ${a.fingerprint} ${a.enterprise_id} ${a.agency_id} ${a.severity}${a.status ? ` ${a.status}` : ''} ×${a.count} `
  + `${a.first_seen_at}…${a.last_seen_at} [${a.evidence.map((e) => `${e.event_id}:${e.role}`).sort().join(' ')}]`;

/** Everything "exactly once" means, read from the deployment's own stores; returns what is compared across deployments. */
async function verify(d: Deployment): Promise<Outcome> {
  // Events: one row per (id, company) under FINAL, all of them.
  const [rows] = await d.storage.query<{ rows: string; dup: string }>(
    `SELECT count() AS rows, countIf(n > 1) AS dup FROM
       (SELECT id, enterprise_id, count() AS n FROM events FINAL WHERE startsWith(id, {p:String}) GROUP BY id, enterprise_id)`, { p: `${ID_PREFIX}-` });
  expect({ rows: Number(rows!.rows), duplicated: Number(rows!.dup) }).toEqual({ rows: expectedRows, duplicated: 0 });

  // Alerts: the API's list, each id once, the same as FINAL and as argMax over every stored revision.
  const alerts = await listAlerts(d.apiUrls[0]!);
  const ids = alerts.map((a) => a.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(alerts.every((a) => a.id === a.fingerprint)).toBe(true);
  const finalRows = await d.storage.query<{ id: string; n: string }>('SELECT id, count() AS n FROM alerts FINAL GROUP BY id');
  expect(finalRows.filter((r) => Number(r.n) !== 1)).toEqual([]);
  expect(finalRows.map((r) => r.id).sort()).toEqual([...ids].sort());
  const latest = await d.storage.query<{ id: string; rev: string; st: string; n: string }>(
    'SELECT id, max(revision) AS rev, argMax(status, revision) AS st, argMax(count, revision) AS n FROM alerts GROUP BY id');
  expect(latest.map((r) => `${r.id} r${r.rev} ${r.st} ×${r.n}`).sort())
    .toEqual(alerts.map((a) => `${a.id} r${a.revision} ${a.status} ×${a.count}`).sort());
  // One history row per revision, revisions 1..n.
  const changes = await d.storage.query<{ alert_id: string; n: string; revs: string; top: string }>(
    'SELECT alert_id, count() AS n, uniqExact(revision) AS revs, max(revision) AS top FROM alert_changes FINAL GROUP BY alert_id');
  const revisionOf = new Map(alerts.map((a) => [a.id, a.revision]));
  expect(changes.filter((c) => Number(c.n) !== Number(c.revs) || Number(c.top) !== revisionOf.get(c.alert_id) || Number(c.n) !== Number(c.top)))
    .toEqual([]);
  expect(changes.length).toBe(alerts.length);

  // The feed journal: every stored revision delivered once (its marker), no revision in the stream twice,
  // at most one `raised` per alert, and exactly one for every alert still at revision 1 that reaches the feed.
  const byRevision = new Map<string, number>();
  const raised = new Map<string, number>();
  const stream = feedStream(d.redisPrefix);
  for (let after = '-'; ;) {
    const page = await d.redis.xrange(stream, after, '+', 'COUNT', 2000);
    for (const [, fields] of page) {
      const message = JSON.parse(fields[fields.indexOf('m') + 1]!) as { action: string; alert: { id: string; revision: number } };
      const key = `${message.alert.id}:${message.alert.revision}`;
      byRevision.set(key, (byRevision.get(key) ?? 0) + 1);
      if (message.action === 'raised') raised.set(message.alert.id, (raised.get(message.alert.id) ?? 0) + 1);
    }
    if (page.length < 2000) break;
    after = `(${page.at(-1)![0]}`;
  }
  expect([...byRevision].filter(([, n]) => n > 1)).toEqual([]);
  expect([...raised].filter(([, n]) => n > 1)).toEqual([]);
  expect([...byRevision.keys()].filter((k) => !revisionOf.has(k.split(':')[0]!))).toEqual([]);
  const markers = alerts.flatMap((a) => Array.from({ length: a.revision }, (_, r) => `${stream}:sent:${a.id}:${r + 1}`));
  const present = await d.redis.pipeline(markers.map((m) => ['exists', m])).exec();
  expect(markers.filter((_, i) => Number(present![i]![1]) !== 1)).toEqual([]);
  const feedAtRaise = (a: Alert) => deliverable(a) && a.channels.includes('feed');
  expect(alerts.filter((a) => a.revision === 1 && (raised.get(a.id) ?? 0) !== (feedAtRaise(a) ? 1 : 0)).map((a) => a.id)).toEqual([]);

  // Tickets: one per complaint, opened once; one at most per alert, and only for alerts that exist.
  const tickets = await d.storage.query<{ source: string; source_id: string; n: string }>(
    'SELECT source, source_id, count() AS n FROM tickets FINAL GROUP BY source, source_id');
  expect(tickets.filter((t) => Number(t.n) !== 1)).toEqual([]);
  expect(tickets.filter((t) => t.source === 'complaint').map((t) => t.source_id).sort()).toEqual([...ticketedComplaintIds].sort());
  const alertTickets = tickets.filter((t) => t.source === 'alert');
  expect(alertTickets.filter((t) => !revisionOf.has(t.source_id))).toEqual([]);
  const [openedTwice] = await d.storage.query<{ n: string }>(
    "SELECT count() AS n FROM (SELECT ticket_id FROM ticket_changes WHERE action = 'opened' GROUP BY ticket_id HAVING uniqExact(at) > 1)");
  expect(Number(openedTwice!.n)).toBe(0);

  // No job failed anywhere.
  for (const q of d.queues) expect(`${q.name}: ${await q.getFailedCount()} failed`).toBe(`${q.name}: 0 failed`);

  const standing = alerts.filter((a) => a.resolution !== CLEARED);
  return {
    alerts,
    standing: standing.map(summary).sort(),
    cleared: alerts.length - standing.length,
    raisedOnFeed: raised.size,
    inhibited: alerts.filter((a) => a.inhibited_by !== '').length,
    complaintTickets: ticketedComplaintIds.length,
    alertTickets: alertTickets.length,
  };
}

// ---------------------------------------------------------------- the runs

const outcomes: { single?: Outcome; cluster?: Outcome } = {};
const dir = mkdtempSync(join(tmpdir(), 'qingjian-multiprocess-'));
let single: TestService | undefined;
let cluster: Cluster | undefined;
let singleDeployment: Deployment | undefined;
let clusterDeployment: Deployment | undefined;
let clusterStorage: Storage | undefined;

beforeAll(() => {
  expect(inputs.length).toBeGreaterThan(3000);
  // Complaints in both cities: some ticketed (烟台), some only on the feed (德州).
  expect(ticketedComplaintIds.length).toBeGreaterThan(10);
  expect(complaints.length - ticketedComplaintIds.length).toBeGreaterThan(10);
  const inForce = (city: string) => ruleSet.rules.filter((r) => r.forRegion(city) !== null).map((r) => r.spec.id);
  expect([...new Set([...inForce('371400'), ...inForce('370600')])].sort()).toEqual(RULES_IN_FORCE);
});

afterAll(async () => {
  await closeDeployment(singleDeployment);
  await closeDeployment(clusterDeployment);
  await clusterStorage?.close();
  await cluster?.stop();
  await single?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('multi-process mode', () => {
  it('one process: API and workers in-process, embedded ClickHouse', { timeout: 90_000 }, async () => {
    single = await startTestService({ STORE_BATCH_WAIT_MS: '20', RULES_WATCH: 'false' });
    singleDeployment = deployment([single.url], single.storage, single.redisUrl, single.config.REDIS_PREFIX);
    await drive(singleDeployment, requests(1));
    await settle(singleDeployment, 60_000);
    outcomes.single = await verify(singleDeployment);
    await closeDeployment(singleDeployment);
    singleDeployment = undefined;
    await single.dispose();
    single = undefined;
  });

  it('2 APIs + 2 workers as processes on one Redis and one ClickHouse endpoint', { timeout: 120_000 }, async () => {
    cluster = await startCluster({
      dir, token: TEST_TOKEN, appendfsync: 'everysec', apis: 2, workers: 2,
      env: { STORE_BATCH_WAIT_MS: '20', SHUTDOWN_TIMEOUT_MS: '2000' },
    });
    clusterStorage = createServerStorage({ url: cluster.clickhouseUrl, database: 'default', username: 'default', password: '' });
    clusterDeployment = deployment(cluster.apiUrls, clusterStorage, cluster.redisUrl, cluster.redisPrefix);
    // Another shuffle and another request order than the single process got.
    await drive(clusterDeployment, requests(2));
    await settle(clusterDeployment, 60_000);
    outcomes.cluster = await verify(clusterDeployment);
    // The alerts read through the second API are the same records.
    const viaSecond = await listAlerts(cluster.apiUrls[1]!);
    expect(viaSecond.map((a) => `${a.id} r${a.revision}`).sort()).toEqual(outcomes.cluster.alerts.map((a) => `${a.id} r${a.revision}`).sort());
    expect(cluster.takeUnexpectedExits()).toEqual([]);
  });

  it('both end with the same alerts, and those of in-order arrival', async () => {
    const { single: a, cluster: b } = outcomes;
    expect(a && b).toBeTruthy();
    expect(b!.standing).toEqual(a!.standing);
    expect([...new Set(a!.standing.map((s) => s.split(' ')[0]!.split('/')[0]))].sort()).toEqual(RULES_IN_FORCE);
    expect(a!.standing.length).toBeGreaterThan(200);
    expect(b!.complaintTickets).toBe(a!.complaintTickets);

    // The in-memory engine on a pinned clock, every event arriving when it happened.
    const expected = simulate({
      rules: ruleSet.rules,
      companies: world.enterprises.map(companyFacts),
      agencyNames: new Map(world.agencies.map((x) => [x.agency_id, x.name])),
      arrivals: inputs.map((input) => Event.parse(input)).map((event) => ({ at: Date.parse(event.occurred_at), event })),
      until: Date.now(),
    }).filter((x) => x.resolution !== CLEARED);
    expect(a!.standing).toEqual(expected.map(summary).sort());
    console.log(`multiprocess: ${a!.standing.length} standing alerts in both; cleared by late evidence ${a!.cleared} / ${b!.cleared}; `
      + `raised on the feed ${a!.raisedOnFeed} / ${b!.raisedOnFeed}; inhibited ${a!.inhibited} / ${b!.inhibited}; `
      + `tickets: ${a!.complaintTickets} complaints, ${a!.alertTickets} / ${b!.alertTickets} alerts (single / cluster)`);
  });
});
