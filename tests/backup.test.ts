import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DAY } from '../src/calendar/index.js';
import { createWorld, generateEvents } from '../src/demo/index.js';
import { freePort } from '../src/redis/local-server.js';
import { parseMetrics } from './support/prometheus.js';
import { eventually } from './support/service.js';

/**
 * `qingjian backup` and `qingjian restore` on the embedded default, as an operator runs them: a backup of a
 * running service under traffic, restored into a new DATA_DIR, and a service started there that holds every event
 * acknowledged before the backup, every alert and ticket that existed then, and processes the copied queue
 * backlog once. Each service is its own process (one embedded engine per process).
 */
const ROOT = resolve(import.meta.dirname, '..');
const CLI = ['--import', 'tsx', 'src/cli.ts'];
const work = mkdtempSync(join(tmpdir(), 'qingjian-backup-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

// 烟台: complaints become 12345 tickets there, and its rules raise alerts on a small world.
const world = createWorld({ seed: 41, enterprisesPerRegion: 10, regions: ['370600'] });
const to = new Date();
const events = generateEvents(world, { seed: 8, from: new Date(to.getTime() - 30 * DAY), to, visitsPerDay: 40, violationRate: 0.3, idPrefix: 'bk' });

interface Running {
  url: string;
  token: string;
  /** Ctrl-C: a clean shutdown. */
  stop(): Promise<void>;
  /** The machine dies: the service and its redis-server are killed at once. */
  kill(): Promise<void>;
}

async function startService(dataDir: string, env: Record<string, string> = {}): Promise<Running> {
  const port = await freePort();
  const child = spawn(process.execPath, [...CLI, 'start'], {
    cwd: ROOT, detached: true, stdio: 'ignore',
    env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn', METRICS_SAMPLE_MS: '200', RULES_WATCH: 'false', RATE_LIMIT_PER_MINUTE: '0', ...env },
  });
  children.push(child);
  const exited = new Promise<void>((done) => child.on('exit', () => done()));
  const url = `http://127.0.0.1:${port}`;
  await eventually(async () => ((await fetch(`${url}/readyz`).catch(() => null))?.status === 200 ? true : undefined), 90_000, 'readyz');
  return {
    url, token: readFileSync(join(dataDir, 'admin-token'), 'utf8').trim(),
    stop: async () => {
      process.kill(-child.pid!, 'SIGINT');
      await exited;
    },
    kill: async () => {
      // Its own redis-server runs in a process group of its own, so that Ctrl-C reaches the service alone.
      const redisPid = Number(readFileSync(join(dataDir, 'redis', 'redis.pid'), 'utf8'));
      process.kill(-child.pid!, 'SIGKILL');
      process.kill(redisPid, 'SIGKILL');
      await exited;
    },
  };
}

/** As a platform calls: a request whose connection broke is sent again (every write is idempotent by its ids). */
async function call(service: Running, method: string, path: string, body?: unknown, attempts = 3): Promise<{ status: number; body: any }> {
  try {
    const res = await fetch(`${service.url}${path}`, {
      method, headers: { authorization: `Bearer ${service.token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  } catch (err) {
    if (attempts <= 1) throw err;
    return call(service, method, path, body, attempts - 1);
  }
}

async function listAll(service: Running, path: string): Promise<any[]> {
  const items: any[] = [];
  for (let cursor: string | null = null; ;) {
    const page = await call(service, 'GET', `${path}${path.includes('?') ? '&' : '?'}limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(page.status).toBe(200);
    items.push(...page.body.items);
    cursor = page.body.next_cursor ?? null;
    if (!cursor) return items;
  }
}

/** Each company's timeline, as event ids. */
const timelines = async (service: Running): Promise<string[][]> =>
  Promise.all(world.enterprises.map(async (c) => (await listAll(service, `/v1/enterprises/${c.enterprise_id}/timeline`)).map((item) => item.id as string)));

const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [...CLI, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'warn', ...env } });

/** Jobs still to run (waiting, active, prioritized) in every queue, as the service's own gauge says. */
async function jobsToRun(service: Running): Promise<number> {
  const metrics = parseMetrics(await (await fetch(`${service.url}/metrics`)).text());
  return ['waiting', 'active', 'prioritized'].reduce((n, state) => n + metrics.value('qingjian_queue_jobs', { state }), 0);
}

describe('qingjian backup and restore (embedded default)', () => {
  const original = join(work, 'original');
  const restored = join(work, 'restored');
  const backup = join(work, 'backup');

  it('backs up under traffic; the restored service has everything acknowledged before, once', async () => {
    const a = await startService(original);
    expect((await call(a, 'PUT', '/v1/agencies', world.agencies)).status).toBe(200);
    expect((await call(a, 'PUT', '/v1/enterprises', world.enterprises)).status).toBe(200);

    // Traffic until told to stop; each acknowledgement is noted. Past the end of the month it goes round again under
    // new ids, so it lasts as long as the backup, however slow the machine.
    const acknowledged: string[] = [];
    let sending = true;
    let next = 0;
    const nextBatch = (size: number) => {
      const round = Math.floor(next / events.length);
      const batch = Array.from({ length: size }, (_, i) => {
        const event = events[(next + i) % events.length]!;
        return round === 0 ? event : { ...event, id: `${event.id}-r${round}` };
      });
      next += size;
      return batch;
    };
    const send = async (size: number) => {
      const batch = nextBatch(size);
      const res = await call(a, 'POST', '/v1/events', batch);
      expect(res.status).toBe(202);
      acknowledged.push(...batch.map((e) => e.id));
    };
    // A thousand events of history first, then a trickle (about 40 events/s) that goes on while the backup runs:
    // the backlog a restore finds stays small however long the backup takes.
    for (let i = 0; i < 5; i++) await send(200);
    const traffic = (async () => {
      while (sending) {
        await send(10);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    // Some of it evaluated and ticketed already, so the backup holds alerts and tickets as well as queued work.
    await eventually(async () => ((await call(a, 'GET', '/v1/alerts?limit=1')).body.items.length > 0
      && (await call(a, 'GET', '/v1/hotline/tickets?limit=1')).body.items.length > 0 ? true : undefined), 120_000, 'alerts and tickets');

    // What exists before the backup starts must all be in it.
    const before = { events: [...acknowledged], alerts: await listAll(a, '/v1/alerts'), tickets: await listAll(a, '/v1/hotline/tickets') };
    expect(before.alerts.length).toBeGreaterThan(0);
    expect(before.tickets.length).toBeGreaterThan(0);
    const ackedWhenBackupStarted = acknowledged.length;
    const taken = await new Promise<{ code: number | null; out: string }>((done) => {
      const child = spawn(process.execPath, [...CLI, 'backup', '--to', backup, '--url', a.url], {
        cwd: ROOT, env: { ...process.env, DATA_DIR: original, LOG_LEVEL: 'warn' },
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
      child.stderr.on('data', (chunk: Buffer) => { out += chunk.toString(); });
      child.on('exit', (code) => done({ code, out }));
    });
    expect(taken.out).toMatch(/^backup written to .*: \d+ files, [\d.]+ MiB, \d+ queued jobs, checksums verified$/m);
    expect(taken.code).toBe(0);
    // Under traffic: requests were acknowledged while the backup ran.
    expect(acknowledged.length).toBeGreaterThan(ackedWhenBackupStarted);
    sending = false;
    await traffic;
    // The original is lost with whatever it held after the backup; the backup alone must bring everything back.
    await a.kill();

    // The backup is checked, names who took it, and refuses a directory that is not empty.
    const manifest = JSON.parse(readFileSync(join(backup, 'manifest.json'), 'utf8'));
    expect(manifest.files.map((f: { path: string }) => f.path)).toEqual(expect.arrayContaining(['admin-token', 'redis/appendonlydir/appendonly.aof.manifest']));
    expect(cli(['backup', '--to', backup, '--url', a.url]).stderr).toContain('is not empty');

    const restore = cli(['restore', '--from', backup], { DATA_DIR: restored });
    expect(restore.stderr).toBe('');
    expect(restore.stdout).toMatch(/^restored the backup of /);
    expect(cli(['restore', '--from', backup], { DATA_DIR: restored }).stderr).toContain('is not empty');

    // Jobs that were running when Redis was copied come back once their lock lapses: short locks find them sooner.
    const b = await startService(restored, { WORKER_LOCK_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000' });
    try {
      await eventually(async () => ((await jobsToRun(b)) === 0 ? true : undefined), 120_000, 'the copied backlog processed');
      // Every acknowledged event is there, each once in a company's timeline (a plan once in each company's).
      const perCompany = await timelines(b);
      const seen = new Set(perCompany.flat());
      expect(before.events.filter((id) => !seen.has(id))).toEqual([]);
      expect(perCompany.flatMap((ids) => ids.filter((id, i) => ids.indexOf(id) !== i))).toEqual([]);

      const alerts = new Map((await listAll(b, '/v1/alerts')).map((alert) => [alert.id, alert]));
      expect(before.alerts.filter((alert) => !alerts.has(alert.id)).map((alert) => alert.id)).toEqual([]);
      for (const alert of before.alerts) {
        const evidence = new Set(alerts.get(alert.id).evidence.map((e: { event_id: string }) => e.event_id));
        expect(alert.evidence.filter((e: { event_id: string }) => !evidence.has(e.event_id))).toEqual([]);
      }
      const tickets = await listAll(b, '/v1/hotline/tickets');
      const ticketIds = new Set(tickets.map((t) => t.id));
      expect(before.tickets.filter((t) => !ticketIds.has(t.id)).map((t) => t.id)).toEqual([]);
      // The backlog is processed once: one ticket per complaint or alert, not one per processing.
      const perSource = new Map<string, number>();
      for (const t of tickets) perSource.set(`${t.source}:${t.source_id}`, (perSource.get(`${t.source}:${t.source_id}`) ?? 0) + 1);
      expect([...perSource].filter(([, n]) => n > 1)).toEqual([]);
      // The person who took the backup is in the restored audit log.
      const audit = await call(b, 'GET', '/v1/audit?action=backup.create');
      expect(audit.body.items).toMatchObject([{ actor: 'bootstrap', actor_role: 'admin', target_kind: 'backup' }]);
    } finally {
      await b.stop();
    }
  }, 600_000);

  it('refuses a backup whose files do not match its manifest', () => {
    const tampered = join(work, 'tampered');
    cpSync(backup, tampered, { recursive: true });
    const file = join(tampered, 'admin-token');
    writeFileSync(file, `${readFileSync(file, 'utf8')}x`);
    const run = cli(['restore', '--from', tampered], { DATA_DIR: join(work, 'never') });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('admin-token: checksum differs');
    expect(existsSync(join(work, 'never'))).toBe(false);
  });
});
