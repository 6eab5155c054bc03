import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../src/alerts/index.js';
import { createRandom, createWorld, generateEvents } from '../src/demo/index.js';
import { carryOut, DEMO_STAFF, planRound, readWork, staffRound, startDemoStaff, type StaffAction, type StaffRound, type StaffWork } from '../src/demo/staff.js';
import { loadDemoWorld } from '../src/demo/traffic.js';
import type { Ticket } from '../src/hotline/index.js';
import { freePort } from '../src/redis/local-server.js';
import { eventually, get, post, startTestService, TEST_TOKEN, type TestService } from './support/service.js';

/**
 * The demo's simulated staff against the real service (its own Redis, the
 * embedded engine): a small demo world and two weeks of history loaded over
 * HTTP as `qingjian start --demo` does, then rounds of staff whose effects are
 * read back through the API. Then `qingjian demo` as a person runs it.
 */
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const SEED = 5;
// The staff's roster depends on the hour; a fixed day-shift clock keeps the choices comparable.
const DAY_SHIFT = new Date('2026-11-20T10:00:00+08:00');
const DAY = 86_400_000;

let service: TestService;
const api = () => ({ url: service.url, token: TEST_TOKEN });
const world = createWorld({ seed: SEED, enterprisesPerRegion: 60, regions: ['371400'] });

beforeAll(async () => {
  service = await startTestService();
  const now = Date.now();
  const history = generateEvents(world, {
    seed: SEED, from: new Date(now - 14 * DAY), to: new Date(now), visitsPerDay: 30, violationRate: 0.3, idPrefix: 'staff-test',
  });
  await loadDemoWorld(api(), world, history);
  await settled();
}, 60_000);

afterAll(async () => {
  await service?.dispose();
});

/** The work lists once the pipeline has stopped changing them (evaluation and ticket opening are asynchronous). */
async function settled(): Promise<StaffWork> {
  let previous = '';
  return eventually(async () => {
    const work = await readWork(api());
    const key = JSON.stringify([work.openAlerts, work.acknowledgedAlerts, work.tickets].map((items) =>
      items.map((i: Alert | Ticket) => `${i.id}:${'status' in i ? i.status : i.state}`).sort()));
    const stable = key === previous && work.openAlerts.length >= 20 && work.tickets.length >= 10;
    previous = key;
    if (stable) return work;
    await new Promise((r) => setTimeout(r, 1_000));
    return undefined;
  }, 45_000, 'alerts and tickets to settle');
}

const alerts = async (query: string): Promise<Alert[]> => (await get(`${service.url}/v1/alerts?${query}&limit=1000`)).body.items;
const tickets = async (query: string): Promise<Ticket[]> => (await get(`${service.url}/v1/hotline/tickets?${query}&limit=1000`)).body.items;
const ofKind = <K extends StaffAction['kind']>(plan: StaffAction[], kind: K) =>
  plan.filter((a): a is Extract<StaffAction, { kind: K }> => a.kind === kind);

describe('loadDemoWorld', () => {
  it("loads the officers' names with the agencies: the API names every officer the events list", async () => {
    const named = new Map<string, string>();
    for (const agency of world.agencies) {
      for (const o of (await get(`${service.url}/v1/officers?agency=${agency.agency_id}&limit=200`)).body.items) named.set(o.id, o.name);
    }
    expect(named).toEqual(new Map(world.officerRecords.map((o) => [o.officer_id, o.name])));
    const listed = (await alerts('mode=active')).flatMap((a) => a.officer_ids);
    expect(listed.length).toBeGreaterThan(0);
    for (const id of listed) expect(named.has(id), id).toBe(true);
  });
});

describe('staffRound', () => {
  it('makes the same choices for the same seed on the same data, and does what it chose', async () => {
    const work = await settled();
    const plan = planRound(work, createRandom(7), DAY_SHIFT);
    expect(planRound(work, createRandom(7), DAY_SHIFT)).toEqual(plan);
    expect(planRound(work, createRandom(8), DAY_SHIFT)).not.toEqual(plan);
    // Listing order is not a choice: the same items in another order give the same plan.
    const reordered = { openAlerts: [...work.openAlerts].reverse(), acknowledgedAlerts: work.acknowledgedAlerts, tickets: [...work.tickets].reverse() };
    expect(planRound(reordered, createRandom(7), DAY_SHIFT)).toEqual(plan);

    const round = await staffRound(api(), createRandom(7), DAY_SHIFT);
    const acks = ofKind(plan, 'ack');
    const claims = ofKind(plan, 'claim');
    expect(acks.length).toBeGreaterThan(0);
    expect(claims.length).toBeGreaterThan(0);
    expect(round).toMatchObject({
      acknowledged: acks.length, claimed: claims.length, resolved: 0, ticketsResolved: 0, conflicts: 0,
      alertsLeftOpen: work.openAlerts.length - acks.length,
    });
    const acknowledged = new Map((await alerts('status=acknowledged')).map((a) => [a.id, a.acknowledged_by]));
    expect(acks.map((a) => acknowledged.get(a.id))).toEqual(acks.map((a) => a.actor));
    expect(acks.every((a) => DEMO_STAFF.discipline.has(a.actor))).toBe(true);
    const held = new Map((await tickets('state=claimed')).map((t) => [t.id, t.claimed_by]));
    expect(claims.map((c) => held.get(c.id))).toEqual(claims.map((c) => c.actor));
  }, 30_000);

  it('over a few rounds acknowledges, resolves (some as false positives), claims and closes, leaving every state in view', async () => {
    const random = createRandom(21);
    const rounds: StaffRound[] = [];
    for (let i = 0; i < 4; i++) rounds.push(await staffRound(api(), random, DAY_SHIFT));
    const total = (field: 'resolved' | 'falsePositives' | 'assigned' | 'ticketsResolved') => rounds.reduce((n, r) => n + r[field], 0);
    expect(total('resolved')).toBeGreaterThan(0);
    expect(total('falsePositives')).toBeGreaterThan(0);
    expect(total('assigned')).toBeGreaterThan(0);
    expect(total('ticketsResolved')).toBeGreaterThan(0);

    const closedByStaff = (await alerts('status=resolved')).filter((a) => DEMO_STAFF.discipline.has(a.resolved_by));
    const codes = new Set(closedByStaff.map((a) => a.resolution));
    expect(codes).toEqual(new Set(['false_positive', 'confirmed']));
    expect(closedByStaff.every((a) => a.resolution_note !== '' && a.acknowledged_by === a.resolved_by)).toBe(true);
    const falsePositives = closedByStaff.filter((a) => a.resolution === 'false_positive').length;
    expect(falsePositives).toBeLessThan(closedByStaff.length / 2);

    const resolvedTickets = (await tickets('state=resolved')).filter((t) => t.outcome !== '');
    expect(resolvedTickets.length).toBe(total('ticketsResolved'));
    expect(resolvedTickets.every((t) => t.resolution_note !== '' && t.accepted_at !== null)).toBe(true);
    const closed = (await get(`${service.url}/v1/hotline/tickets/${resolvedTickets[0]!.id}`)).body;
    expect(closed.history.map((h: { actor: string }) => h.actor).filter((actor: string) => DEMO_STAFF.hotline.has(actor))).not.toEqual([]);

    // Each person acted with their own token: the audit log names them, their unit and their token, none shared.
    const entries = (await get(`${service.url}/v1/audit?action=alert.acknowledge&limit=1000`)).body.items
      .filter((e: any) => DEMO_STAFF.discipline.has(e.actor));
    for (const entry of entries) expect(entry).toMatchObject({ actor_role: 'discipline', actor_unit: '纪委监委', actor_shared: false, actor_token: expect.stringMatching(/^tok-/) });
    const tokenOf = new Map<string, string>(entries.map((e: any) => [e.actor, e.actor_token]));
    expect(tokenOf.size).toBeGreaterThan(1);
    expect(new Set(tokenOf.values()).size).toBe(tokenOf.size);
    expect(entries.every((e: any) => tokenOf.get(e.actor) === e.actor_token)).toBe(true);

    // Every state still shows: open and acknowledged alerts, new, claimed and assigned tickets.
    expect((await alerts('status=open&mode=active')).length).toBeGreaterThan(0);
    expect((await alerts('status=acknowledged')).length).toBeGreaterThan(0);
    expect((await tickets('state=new')).length).toBeGreaterThan(0);
    expect((await tickets('state=claimed')).length + (await tickets('state=assigned')).length).toBeGreaterThan(0);
  }, 60_000);

  it('takes lost races (409) quietly and leaves tickets someone else holds alone', async () => {
    const [elsewhere] = await tickets('state=new');
    expect((await post(`${service.url}/v1/hotline/tickets/${elsewhere!.id}/claim`, {})).status).toBe(200);

    const work = await readWork(api());
    const plan = planRound(work, createRandom(33), DAY_SHIFT);
    expect(plan.some((a) => a.id === elsewhere!.id)).toBe(false);
    const first = await carryOut(api(), work, plan);
    expect(first.conflicts).toBe(0);
    // The same decisions again, as if another person had just done them: every alert and ticket closure is a 409.
    // Claiming and assigning again are the holder renewing their own claim, which the service allows.
    const again = await carryOut(api(), work, plan);
    const refused = ofKind(plan, 'ack').length + ofKind(plan, 'resolve').length + ofKind(plan, 'resolve-ticket').length;
    expect(refused).toBeGreaterThan(0);
    expect(again).toMatchObject({ acknowledged: 0, resolved: 0, ticketsResolved: 0, conflicts: refused });

    // Two people with the same habits at once: whichever loses each race carries on.
    const [a, b] = await Promise.all([staffRound(api(), createRandom(34), DAY_SHIFT), staffRound(api(), createRandom(34), DAY_SHIFT)]);
    expect(a.acknowledged + b.acknowledged).toBeGreaterThan(0);

    const ticket = (await get(`${service.url}/v1/hotline/tickets/${elsewhere!.id}`)).body as Ticket;
    expect(ticket).toMatchObject({ state: 'claimed', claimed_by: 'bootstrap' });
  }, 30_000);
});

describe('startDemoStaff', () => {
  /** A logger whose records land in an array. */
  function recordingLogger() {
    const records: { level: number; msg: string; [field: string]: unknown }[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        records.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    return { log: pino({ level: 'info' }, stream), records };
  }

  it('runs rounds until stopped, logging a summary of each, and stops after the round under way', async () => {
    const { log, records } = recordingLogger();
    const stop = startDemoStaff({ api: api(), seed: SEED, log, everyMs: 50 });
    await eventually(async () => (records.filter((r) => r.msg === 'demo staff round').length >= 2 ? true : undefined), 20_000, 'two rounds');
    await stop();
    const rounds = records.filter((r) => r.msg === 'demo staff round');
    expect(rounds[0]).toMatchObject({ level: 30, acknowledged: expect.any(Number), claimed: expect.any(Number), conflicts: expect.any(Number) });
    await new Promise((r) => setTimeout(r, 300));
    expect(records.filter((r) => r.msg === 'demo staff round')).toHaveLength(rounds.length);
  }, 30_000);

  it('logs a failed round and carries on', async () => {
    const { log, records } = recordingLogger();
    const stop = startDemoStaff({ api: { url: `http://127.0.0.1:${await freePort()}`, token: TEST_TOKEN }, seed: SEED, log, everyMs: 20 });
    await eventually(async () => (records.filter((r) => r.msg.includes('failed')).length >= 2 ? true : undefined), 10_000, 'two failed rounds');
    await stop();
    expect(records[0]).toMatchObject({ level: 40, msg: 'demo staff round failed; trying again next round', err: expect.stringContaining('fetch failed') });
  }, 20_000);
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `qingjian demo …` from the sources, as tests/rules.cli.test.ts runs the CLI. */
function qingjianDemo(args: string[], onStdout?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'demo', ...args], { cwd: root, env: { ...process.env, LOG_LEVEL: 'info', QINGJIAN_TOKEN: TEST_TOKEN } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    onStdout?.(stdout, child);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('qingjian demo', () => {
  it.each([
    [['--url', 'api:8080'], "option '--url <api-url>' argument 'api:8080' is invalid. must be the http(s) URL of a running Qingjian API"],
    [['--url', 'not a url'], 'must be the http(s) URL of a running Qingjian API, e.g. http://api:8080'],
    [[], "required option '--url <api-url>' not specified"],
    [['--url', 'http://api:8080', '--visits', 'many'], "option '--visits <per_day>' argument 'many' is invalid"],
  ])('refuses %j with a clear error', async (args, message) => {
    const run = await qingjianDemo(args);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(message);
    expect(run.stdout).toBe('');
  }, 20_000);

  it('waits for the API, feeds it the world of --seed and stops on SIGTERM', async () => {
    // A stand-in API that records requests: the real service is not needed to see what the command sends.
    const received: { method: string; path: string; body: string; authorization?: string }[] = [];
    let readyChecks = 0;
    const api: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ method: req.method!, path: req.url!, body, authorization: req.headers.authorization });
        const notReadyYet = req.url === '/readyz' && ++readyChecks < 3;
        res.writeHead(notReadyYet ? 503 : 200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(api.address() as AddressInfo).port}/`;
    try {
      const run = await qingjianDemo(['--url', url, '--seed', '9', '--visits', '100'], (stdout, child) => {
        if (stdout.includes('demo world loaded') && child.exitCode === null && !child.killed) child.kill('SIGTERM');
      });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(readyChecks).toBe(3);
      const firstPut = received.find((r) => r.method === 'PUT' && r.path === '/v1/enterprises');
      expect(JSON.parse(firstPut!.body)[0]).toEqual(createWorld({ seed: 9 }).enterprises[0]);
      expect(firstPut!.authorization).toBe(`Bearer ${TEST_TOKEN}`);
      expect(received.some((r) => r.method === 'POST' && r.path === '/v1/events')).toBe(true);
      expect(run.stdout).toContain('"msg":"shutting down"');
    } finally {
      api.close();
    }
  }, 30_000);
});
