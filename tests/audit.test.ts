import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acknowledge, reconcile, type AlertCandidate } from '../src/alerts/index.js';
import { createAlertMemory, createAlertStore, enterpriseLock } from '../src/alerts/store.js';
import { auditRoutes, createAuditLog, recordTokenChange, type AuditEntry, type AuditedToken } from '../src/audit/index.js';
import { complaintTicketId, type Ticket } from '../src/hotline/index.js';
import { createLocks, type Locks } from '../src/redis/lock.js';
import type { Storage } from '../src/storage/index.js';
import { complaint, creditCode } from './support/fixtures.js';
import { actingAs, eventually, startTestService, type TestService } from './support/service.js';

/**
 * The audit log on the real service (its own redis-server, the embedded
 * ClickHouse): every person's action on alerts, silences and tickets leaves
 * exactly one entry with actor, time and the fields before and after; refused
 * and repeated actions leave none; a write retried after a failure folds;
 * GET /v1/audit filters, pages and names bad parameters; entries survive a
 * restart. One data directory for the file (chdb binds one per process).
 */
const TOKEN = randomBytes(32).toString('base64url');
const ENV = { QINGJIAN_BOOTSTRAP_TOKEN: TOKEN };
const dataDir = mkdtempSync(join(tmpdir(), 'qingjian-audit-'));
const started = new Date();
let service: TestService;
let redis: Redis;
let locks: Locks;

beforeAll(async () => {
  service = await startTestService(ENV, { api: true, worker: true }, dataDir);
  redis = new Redis(service.redisUrl);
  locks = createLocks(redis, service.config.REDIS_PREFIX);
  // Without background merges every written row stays a row of its own, so only reads that fold (FINAL) pass.
  await service.storage.command('SYSTEM STOP MERGES audit_log');
});

afterAll(async () => {
  redis?.disconnect();
  await service?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

type Reply = { status: number; body: any };

async function call(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`${service.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

const post = async (path: string, body: unknown, requestId?: string) =>
  call('POST', path, body, { ...(await actingAs(service.url, body, TOKEN)), ...(requestId ? { 'x-request-id': requestId } : {}) });
const get = (path: string) => call('GET', path);

/** Every entry matching the query, following next_cursor. */
async function audit(query: string, limit = 1000): Promise<AuditEntry[]> {
  const items: AuditEntry[] = [];
  let cursor: string | null = null;
  do {
    const res = await get(`/v1/audit?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    items.push(...res.body.items);
    cursor = res.body.next_cursor;
  } while (cursor);
  return items;
}

/** Rows written with this id, before ReplacingMergeTree folds them: proves what was written. */
async function rowsWritten(id: string): Promise<number> {
  const [row] = await service.storage.query<{ n: string }>('SELECT count() AS n FROM audit_log WHERE id = {id:String}', { id });
  return Number(row!.n);
}

let serial = 0;
function candidate(region = '371402'): AlertCandidate {
  const n = ++serial;
  return {
    fingerprint: `audit-fp-${process.pid}-${n}`,
    rule_id: 'frequent_visits',
    rule_version: 1,
    variant: '',
    severity: 'medium',
    mode: 'active',
    channels: ['feed'],
    title: { zh: '同一企业年度检查过频', en: 'Too many inspections of one company this year' },
    message: { zh: '今年已第 5 次入企检查', en: '5th inspection this year' },
    region,
    enterprise_id: creditCode(region, 5_000 + n),
    agency_id: '371400-SCJG',
    officer_ids: ['371400-SCJG-001'],
    window_start: '2025-12-31T16:00:00.000Z',
    window_end: '2026-12-31T16:00:00.000Z',
    anchor_at: '2026-03-02T01:30:00.000Z',
    first_seen_at: '2026-03-02T01:30:00.000Z',
    last_seen_at: '2026-03-02T01:30:00.000Z',
    count: 5,
    evidence: [{ event_id: `ci-${n}`, type: 'checkin', occurred_at: '2026-03-02T01:30:00.000Z', role: 'trigger' }],
    figures: { visits: 5, threshold: 4 },
    params: { max_visits_per_year: 4 },
  };
}

/** Plays the engine: raises the alert under its company's lock (the system's action: no audit entry). */
async function raise(c: AlertCandidate): Promise<string> {
  const store = createAlertStore(service.storage, locks, createAlertMemory(redis, service.config.REDIS_PREFIX, 0));
  await locks.withLocks([enterpriseLock(c.enterprise_id)], async () => store.save(reconcile(new Map(), [c], [], new Date(), '')));
  return c.fingerprint;
}

let companies = 0;
/** A complaint's 12345 ticket: 莆田 (350302) by default, whose complaints go to the hotline (德州's go to the feed). */
async function complaintTicket(region = '350302'): Promise<Ticket> {
  const event = complaint({ enterprise_id: creditCode(region, 7_000 + ++companies), region, category: 'other' });
  expect((await post('/v1/events', event)).status).toBe(202);
  const id = complaintTicketId(event);
  return eventually(async () => {
    const res = await get(`/v1/hotline/tickets/${id}`);
    return res.status === 200 ? (res.body as Ticket) : undefined;
  }, 20_000, `ticket ${id}`);
}

const oldestFirst = (entries: AuditEntry[]) => [...entries].reverse();

describe('recording people\'s actions', () => {
  it('alerts: one entry per ack, resolve and reopen with actor, time, before/after; a repeated ack (409) adds none', async () => {
    const id = await raise(candidate());
    expect((await post(`/v1/alerts/${id}/ack`, { actor: 'li.wei', note: '已联系执法大队' }, 'req-ack-1')).status).toBe(200);
    expect((await post(`/v1/alerts/${id}/ack`, { actor: 'li.wei', note: '已联系执法大队' }, 'req-ack-1')).status).toBe(409);
    expect((await post(`/v1/alerts/${id}/ack`, { actor: 'zhang.min' })).status).toBe(409);
    expect((await post(`/v1/alerts/${id}/resolve`, { actor: 'li.wei', code: 'justified', note: '紧急检查' })).status).toBe(200);
    expect((await post(`/v1/alerts/${id}/resolve`, { actor: 'li.wei', code: 'justified' })).status).toBe(409);
    expect((await post(`/v1/alerts/${id}/reopen`, { actor: 'wang.fang', note: '补报备日期晚于检查' })).status).toBe(200);

    const entries = await audit(`target_kind=alert&target_id=${id}`);
    expect(entries.map((e) => e.action)).toEqual(['alert.reopen', 'alert.resolve', 'alert.acknowledge']);
    // Actor, time and note are the alert's own history entries of the same revisions.
    const { body: alert } = await get(`/v1/alerts/${id}`);
    const history = new Map<number, any>(alert.history.map((h: any) => [h.revision, h]));
    for (const e of entries) {
      const h = history.get(e.revision);
      expect(e).toMatchObject({ id: `alert:${id}:${e.revision}`, target_kind: 'alert', target_id: id, region: '371402', actor: h.actor, at: h.at, note: h.note });
      expect(e.actor).not.toBe('');
    }
    const [reopen, resolve, ack] = entries;
    expect(ack).toMatchObject({
      revision: 2, request_id: 'req-ack-1', actor_role: expect.any(String),
      before: { status: 'open', acknowledged_by: '', acknowledged_at: null },
      after: { status: 'acknowledged', acknowledged_by: ack!.actor, acknowledged_at: ack!.at },
    });
    expect(Object.keys(ack!.after).sort()).toEqual(['acknowledged_at', 'acknowledged_by', 'status']);
    expect(resolve).toMatchObject({
      revision: 3,
      before: { status: 'acknowledged', resolution: '', resolved_by: '', resolved_at: null, resolution_note: '' },
      after: { status: 'resolved', resolution: 'justified', resolved_by: resolve!.actor, resolved_at: resolve!.at, resolution_note: '紧急检查' },
    });
    expect(reopen).toMatchObject({
      revision: 4,
      before: { status: 'resolved', resolution: 'justified', acknowledged_by: ack!.actor },
      after: { status: 'open', resolution: '', resolved_at: null, acknowledged_by: '', acknowledged_at: null },
    });
    // The raise was the system's: history has it, the audit log does not.
    expect(alert.history.map((h: any) => h.action)).toEqual(['raised', 'acknowledged', 'resolved', 'reopened']);
  });

  it('silences: create and expire, one entry each; expiring an expired silence adds none', async () => {
    const created = await post('/v1/silences', { matchers: { rule: 'frequent_visits', region: '3714' }, reason: '专项整治期间', created_by: 'chen.jing', duration_minutes: 60 });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await post(`/v1/silences/${id}/expire`, { actor: 'chen.jing' })).status).toBe(200);
    expect((await post(`/v1/silences/${id}/expire`, { actor: 'chen.jing' })).status).toBe(200);

    const [expire, create, ...rest] = await audit(`target_id=${id}`);
    expect(rest).toEqual([]);
    expect(create).toMatchObject({
      id: `silence:${id}:1`, action: 'silence.create', target_kind: 'silence', revision: 1, region: '3714', at: created.body.created_at,
      actor: created.body.created_by, note: '专项整治期间', before: {},
      after: { matchers: { rule: 'frequent_visits', region: '3714', agency: '', enterprise: '' }, reason: '专项整治期间', ends_at: created.body.ends_at, state: 'active' },
    });
    const { body: silence } = await get(`/v1/silences/${id}`);
    expect(expire).toMatchObject({
      id: `silence:${id}:2`, action: 'silence.expire', revision: 2, region: '3714', actor: silence.expired_by, at: silence.ends_at,
      before: { ends_at: created.body.ends_at, expired_by: '', state: 'active' },
      after: { ends_at: silence.ends_at, expired_by: silence.expired_by, state: 'expired' },
    });
  });

  it('tickets: one entry per claim, release, assign, categorise, note, resolve and reopen; refusals add none', async () => {
    const ticket = await complaintTicket();
    const url = `/v1/hotline/tickets/${ticket.id}`;
    const ok = async (action: string, body: unknown) => expect((await post(`${url}/${action}`, body)).status, action).toBe(200);
    const refused = async (action: string, body: unknown) => expect((await post(`${url}/${action}`, body)).status, action).toBe(409);

    await ok('claim', { actor: 'li.wei' });
    await refused('claim', { actor: 'zhang.min' });
    await ok('notes', { actor: 'zhang.min', text: '来电人补充了时间' });
    await ok('categorise', { actor: 'li.wei', category: 'frequent', note: '实为频繁检查' });
    // A ticket goes only to a known agency.
    expect((await call('PUT', '/v1/agencies', { agency_id: '350300-SCJG', name: '莆田市市场监督管理局', region: '350300', kind: 'market_regulation' })).status).toBe(200);
    await ok('assign', { actor: 'li.wei', to: { kind: 'agency', id: '350300-SCJG' } });
    await refused('resolve', { actor: 'li.wei', outcome: 'substantiated', note: '未回访' });
    await ok('callback', { actor: 'li.wei', satisfaction: 'satisfied', note: '来电人表示满意' });
    await ok('resolve', { actor: 'li.wei', outcome: 'substantiated', note: '已核实' });
    await refused('resolve', { actor: 'li.wei', outcome: 'substantiated', note: '再次' });
    await ok('reopen', { actor: 'wang.fang', note: '来电人不满意' });
    await ok('claim', { actor: 'wang.fang' });
    await ok('release', { actor: 'wang.fang', note: '交班' });

    const entries = oldestFirst(await audit(`target_kind=ticket&target_id=${ticket.id}`));
    expect(entries.map((e) => e.action)).toEqual([
      'ticket.claim', 'ticket.note', 'ticket.categorise', 'ticket.assign', 'ticket.callback', 'ticket.resolve', 'ticket.reopen', 'ticket.claim', 'ticket.release',
    ]);
    const { body: detail } = await get(url);
    const people = detail.history.filter((h: any) => h.action !== 'opened');
    expect(entries.map((e) => [e.revision, e.actor, e.at, e.note])).toEqual(people.map((h: any) => [h.revision, h.actor, h.at, h.note]));
    expect(entries.every((e) => e.id === `ticket:${ticket.id}:${e.revision}` && e.region === '350302')).toBe(true);

    const [claim, note, categorise, assign, callback, resolve, reopen] = entries;
    expect(callback).toMatchObject({ before: { callback: null }, after: { callback: { by: 'li.wei', satisfaction: 'satisfied', note: '来电人表示满意' } } });
    expect(claim).toMatchObject({
      before: { state: 'new', claimed_by: '', claimed_until: null, accepted_at: null },
      after: { state: 'claimed', claimed_by: claim!.actor, accepted_at: claim!.at },
    });
    expect(note).toMatchObject({ before: {}, after: {}, note: '来电人补充了时间' }); // not the holder: nothing renewed
    expect(categorise).toMatchObject({ before: { category: 'other' }, after: { category: 'frequent' } });
    expect(assign).toMatchObject({ before: { state: 'claimed', assignee: null }, after: { state: 'assigned', assignee: { kind: 'agency', id: '350300-SCJG' } } });
    expect(resolve).toMatchObject({ before: { state: 'assigned', outcome: '' }, after: { state: 'resolved', outcome: 'substantiated', claimed_by: '' } });
    expect(reopen).toMatchObject({ before: { state: 'resolved' }, after: { state: 'new', outcome: '', resolved_at: null, callback: null } });
  });

  it('tokens: recordTokenChange writes create and revoke once each, never the token or its hash', async () => {
    const log = createAuditLog(service.storage);
    const token = { id: 'tok-ops-1', name: 'ops-dezhou', role: 'staff', jurisdiction: '3714', hash: 'HASH-MUST-NOT-BE-STORED', secret: 'SECRET-MUST-NOT-BE-STORED' };
    const change = { action: 'token.create' as const, actor: 'root', actor_role: 'admin', token: token as AuditedToken, request_id: 'req-token' };
    await recordTokenChange(log, change);
    await recordTokenChange(log, change); // a retried create
    await recordTokenChange(log, { action: 'token.revoke', actor: 'root', actor_role: 'admin', token: token as AuditedToken, note: '人员调岗' });

    const [revoke, create, ...rest] = await audit('target_kind=token&target_id=tok-ops-1');
    expect(rest).toEqual([]);
    expect(create).toMatchObject({
      id: 'token:tok-ops-1:create', action: 'token.create', actor: 'root', actor_role: 'admin', region: '3714', revision: 0, request_id: 'req-token',
      before: {}, after: { name: 'ops-dezhou', role: 'staff', jurisdiction: '3714', state: 'active' },
    });
    expect(revoke).toMatchObject({ id: 'token:tok-ops-1:revoke', action: 'token.revoke', note: '人员调岗', after: { state: 'revoked' } });
    const raw = await service.storage.query<Record<string, unknown>>("SELECT * FROM audit_log WHERE target_kind = 'token'");
    expect(JSON.stringify(raw)).not.toMatch(/MUST-NOT-BE-STORED/);
  });

  it('folds a write retried after a failure: an ack whose alert write failed, then retried, is one entry', async () => {
    const id = await raise(candidate());
    // The real engine behind a port whose first insert into `alerts` fails (ClickHouse dropping the connection).
    let failures = 1;
    const flaky: Storage = {
      ...service.storage,
      kind: service.storage.kind,
      insert: async (table, rows) => {
        if (table === 'alerts' && failures-- > 0) throw new Error('socket hang up');
        return service.storage.insert(table, rows);
      },
      query: (sql, params) => service.storage.query(sql, params),
      command: (sql, params) => service.storage.command(sql, params),
    };
    const store = createAlertStore(flaky, locks, createAlertMemory(redis, service.config.REDIS_PREFIX, 0));
    const context = { actor_role: 'staff', request_id: 'req-retry' };
    await expect(store.act(id, (a) => acknowledge(a, 'li.wei', 'first try', new Date()), undefined, context)).rejects.toThrow('socket hang up');
    await new Promise((r) => setTimeout(r, 5));
    const acked = await store.act(id, (a) => acknowledge(a, 'li.wei', 'second try', new Date()), undefined, context);

    expect(await rowsWritten(`alert:${id}:2`)).toBe(2);
    const entries = await audit(`target_id=${id}`);
    expect(entries).toHaveLength(1);
    // The latest attempt wins: the entry is the revision that was stored.
    expect(entries[0]).toMatchObject({ id: `alert:${id}:2`, revision: 2, at: acked!.updated_at, note: 'second try', after: { acknowledged_at: acked!.acknowledged_at } });
  });
});

describe('GET /v1/audit', () => {
  let beijing: string;
  const actor = `auditor-${process.pid}`;

  beforeAll(async () => {
    beijing = await raise(candidate('110105'));
    const shandong = await raise(candidate('371402'));
    expect((await post(`/v1/alerts/${beijing}/ack`, { actor })).status).toBe(200);
    expect((await post(`/v1/alerts/${shandong}/ack`, { actor })).status).toBe(200);
    expect((await post(`/v1/alerts/${shandong}/resolve`, { actor, code: 'data_error' })).status).toBe(200);
    expect((await post(`/v1/alerts/${beijing}/resolve`, { actor, code: 'confirmed' })).status).toBe(200);
    expect((await post(`/v1/alerts/${beijing}/reopen`, { actor, note: '复核' })).status).toBe(200);
  });

  it('filters by actor, action, target kind and id, region prefix and time', async () => {
    const mine = await audit(`actor=${actor}`);
    expect(mine).toHaveLength(5);
    expect(mine.every((e) => e.actor === actor)).toBe(true);
    expect((await audit(`actor=${actor}&action=alert.resolve`)).map((e) => e.target_id).sort()).toEqual([beijing, (mine.find((e) => e.target_id !== beijing))!.target_id].sort());
    expect((await audit(`actor=${actor}&target_id=${beijing}`)).map((e) => e.action)).toEqual(['alert.reopen', 'alert.resolve', 'alert.acknowledge']);
    expect((await audit(`actor=${actor}&region=11`)).every((e) => e.target_id === beijing)).toBe(true);
    expect(await audit(`actor=${actor}&region=1101`)).toHaveLength(3);
    expect(await audit(`actor=${actor}&region=3714`)).toHaveLength(2);
    expect(await audit(`actor=${actor}&target_kind=ticket`)).toEqual([]);
    expect(await audit(`actor=nobody-${process.pid}`)).toEqual([]);

    const times = mine.map((e) => e.at);
    const middle = times[2]!;
    const newer = await audit(`actor=${actor}&from=${encodeURIComponent(middle)}`);
    const older = await audit(`actor=${actor}&to=${encodeURIComponent(middle)}`);
    expect(newer.every((e) => e.at >= middle) && older.every((e) => e.at < middle)).toBe(true);
    expect(newer.length + older.length).toBe(5);
    expect(await audit(`actor=${actor}&from=${encodeURIComponent(started.toISOString())}`)).toHaveLength(5);
    expect(await audit(`actor=${actor}&to=${encodeURIComponent(started.toISOString())}`)).toEqual([]);
  });

  it('answers newest first and pages with a cursor, each entry once', async () => {
    const all = await audit('action=alert.acknowledge');
    expect(all.length).toBeGreaterThanOrEqual(4);
    const keys = all.map((e) => [e.at, e.id].join(' '));
    expect(keys).toEqual([...keys].sort().reverse());
    const paged = await audit('action=alert.acknowledge', 1);
    expect(paged.map((e) => e.id)).toEqual(all.map((e) => e.id));
    const first = await get('/v1/audit?action=alert.acknowledge&limit=2');
    expect(first.body.items).toHaveLength(2);
    expect(first.body.next_cursor).toEqual(expect.any(String));
  });

  it.each([
    ['action=alert.ack', 'action'],
    ['target_kind=user', 'target_kind'],
    ['region=3a', 'region'],
    ['from=yesterday', 'from'],
    ['from=2026-11-02&to=2026-11-01', 'to'],
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['actor=', 'actor'],
    ['cursor=not-a-cursor', 'cursor'],
    ['who=li.wei', 'who'],
  ])('answers 400 to ?%s naming %s', async (query, field) => {
    const res = await get(`/v1/audit?${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_request' });
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
  });

  it('keeps a caller limited to a jurisdiction inside it, whatever region it asks for', async () => {
    const app = auditRoutes(createAuditLog(service.storage), { regionPrefix: () => '1101' });
    const ask = async (query: string) => {
      const res = await app.request(`/v1/audit?actor=${actor}${query}`);
      expect(res.status).toBe(200);
      return ((await res.json()) as { items: AuditEntry[] }).items;
    };
    expect((await ask('')).map((e) => e.target_id)).toEqual([beijing, beijing, beijing]);
    expect(await ask('&region=11')).toHaveLength(3); // broader: still only the jurisdiction
    expect(await ask('&region=110105')).toHaveLength(3); // narrower: fine
    expect(await ask('&region=3714')).toEqual([]); // elsewhere: nothing
    const unlimited = auditRoutes(createAuditLog(service.storage), { regionPrefix: () => null });
    expect(((await (await unlimited.request(`/v1/audit?actor=${actor}`)).json()) as { items: unknown[] }).items).toHaveLength(5);
  });

  it('is in the OpenAPI document', async () => {
    const { body } = await get('/openapi.json');
    const names = body.paths['/v1/audit'].get.parameters.map((p: { name: string }) => p.name);
    expect(names).toEqual(['actor', 'action', 'target_kind', 'target_id', 'region', 'from', 'to', 'limit', 'cursor']);
    expect(body.components.schemas.AuditEntry.properties.action.enum).toContain('ticket.categorise');
  });
});

describe('durability', () => {
  it('keeps every entry across a restart (they are in ClickHouse)', async () => {
    const before = await audit('from=2000-01-01');
    expect(before.length).toBeGreaterThanOrEqual(20);
    redis.disconnect();
    await service.stop();
    service = await startTestService(ENV, { api: true, worker: true }, dataDir);
    redis = new Redis(service.redisUrl);
    expect(await audit('from=2000-01-01')).toEqual(before);
  });
});
