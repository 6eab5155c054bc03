import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { WebSocket } from 'ws';
import { createAuditLog } from '../src/audit/index.js';
import { authenticate, createTokenStore, routeAccess, tokenRoutes } from '../src/auth/index.js';
import { defineRoute, routeGroup } from '../src/http/route.js';
import type { Storage } from '../src/storage/index.js';
import { checkin, complaint, creditCode, inspection, MID_MONTH_WEEK_AGO, plan, shanghaiAt } from './support/fixtures.js';
import { feedUrl } from './support/feed-client.js';
import { auth, callAs, createToken, eventually, startTestService, TEST_TOKEN, type TestService } from './support/service.js';

// Bearer tokens against a real service: who gets in, and what each role may do.
let service: TestService;

beforeAll(async () => {
  service = await startTestService({ RULES_WATCH: 'false' });
});

afterAll(async () => {
  await service?.dispose();
});

const call = (method: string, path: string, token: string | null, body?: unknown) => callAs(service.url, method, path, token, body);

const newToken = (role: string, extra: Record<string, unknown> = {}) => createToken(service.url, role, extra);

describe('bearer tokens', () => {
  it('refuses requests without a token, or with an unknown one, with 401 and a Bearer challenge', async () => {
    for (const token of [null, 'qjt_not-a-real-token-at-all-000000000000000']) {
      const res = await call('GET', '/v1/alerts', token);
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('unauthorized');
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
    }
  });

  it('leaves health, metrics, API docs and the console page open', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/']) expect((await fetch(`${service.url}${path}`)).status, path).toBe(200);
  });

  it('creates a token shown once, lists it without secrets, and a revoked token stops working', async () => {
    const created = await newToken('justice', { jurisdiction: '3714' });
    expect(created.token).toMatch(/^qjt_[A-Za-z0-9_-]{43}$/);
    expect((await call('GET', '/v1/alerts', created.token)).status).toBe(200);
    const list = await call('GET', '/v1/tokens', TEST_TOKEN);
    const listed = list.body.items.find((t: any) => t.id === created.id);
    expect(listed).toMatchObject({ role: 'justice', jurisdiction: '3714', revoked_at: null });
    expect(JSON.stringify(list.body)).not.toContain(created.token);
    expect(JSON.stringify(list.body)).not.toMatch(/hash/);
    expect((await call('POST', `/v1/tokens/${created.id}/revoke`, TEST_TOKEN)).body.revoked_by).toBe('bootstrap');
    expect((await call('GET', '/v1/alerts', created.token)).status).toBe(401);
    const audit = await call('GET', `/v1/audit?target_kind=token&target_id=${created.id}`, TEST_TOKEN);
    expect(audit.body.items.map((e: any) => [e.action, e.actor, e.actor_role]).sort()).toEqual([['token.create', 'bootstrap', 'admin'], ['token.revoke', 'bootstrap', 'admin']]);
    expect(JSON.stringify(audit.body)).not.toContain(created.token);
  });

  it('names the bad field of a token request', async () => {
    const res = await call('POST', '/v1/tokens', TEST_TOKEN, { name: 'x', role: 'boss', jurisdiction: '37x' });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: any) => e.field).sort()).toEqual(['jurisdiction', 'role']);
    const company = await call('POST', '/v1/tokens', TEST_TOKEN, { name: 'x', role: 'enterprise' });
    expect(company.body.errors[0].field).toBe('enterprise_id');
  });

  it('lets each role do its work and nothing else (403 naming the role)', async () => {
    const ingest = await newToken('ingest');
    const justice = await newToken('justice');
    const hotline = await newToken('hotline');
    expect((await call('POST', '/v1/events', ingest.token, [checkin()])).status).toBe(202);
    expect((await call('GET', '/v1/alerts', ingest.token)).status).toBe(403);
    expect((await call('GET', '/v1/alerts', justice.token)).status).toBe(200);
    const ack = await call('POST', '/v1/alerts/some-alert/ack', justice.token, { actor: '司法局' });
    expect(ack.status).toBe(403);
    expect(ack.body.message).toContain('justice');
    expect((await call('GET', '/v1/tokens', justice.token)).status).toBe(403);
    expect((await call('GET', '/v1/hotline/tickets', hotline.token)).status).toBe(200);
    expect((await call('GET', '/v1/silences', hotline.token)).status).toBe(403);
  });

  it('lets the hotline send complaints only, refusing a mixed batch whole and naming the events', async () => {
    const hotline = await newToken('hotline');
    expect((await call('POST', '/v1/events', hotline.token, [complaint()])).status).toBe(202);
    const mixed = await call('POST', '/v1/events', hotline.token, [complaint(), checkin()]);
    expect(mixed.status).toBe(403);
    expect(mixed.body.errors).toEqual([{ index: 1, field: 'type', message: 'this token may send complaints only' }]);
  });

  it("gives a company's token its own timeline and nobody else's", async () => {
    const own = creditCode('371402', 9001);
    const company = await newToken('enterprise', { enterprise_id: own });
    expect((await call('GET', `/v1/enterprises/${own}/timeline`, company.token)).status).toBe(200);
    expect((await call('GET', `/v1/enterprises/${creditCode('371402', 9002)}/timeline`, company.token)).status).toBe(404);
    expect((await call('GET', '/v1/alerts', company.token)).status).toBe(403);
  });

  it("shows a company a plan's other companies as a count, never their codes; staff see the codes", async () => {
    const own = creditCode('371402', 9011);
    const others = [creditCode('371402', 9012), creditCode('371402', 9013)];
    const company = await newToken('enterprise', { enterprise_id: own });
    const filed = plan({ enterprise_ids: [own, ...others] });
    expect((await call('POST', '/v1/events', TEST_TOKEN, [filed])).status).toBe(202);
    const planOf = async (token: string) => eventually(async () =>
      (await call('GET', `/v1/enterprises/${own}/timeline`, token)).body.items.find((e: any) => e.id === filed.id), 20_000, 'the plan on the timeline');
    const seen = await planOf(company.token);
    expect(seen).toMatchObject({ enterprise_ids: [own], other_enterprises: 2 });
    expect(JSON.stringify(seen)).not.toContain(others[0]);
    expect(JSON.stringify(seen)).not.toContain(others[1]);
    expect((await planOf(TEST_TOKEN)).enterprise_ids).toEqual([own, ...others]);
  });

  it('opens the live feed only with a token that may read it, by header or by subprotocol', async () => {
    const upgrade = (options: { token?: string; protocols?: string[] }) => new Promise<number | string>((resolve) => {
      const ws = new WebSocket(feedUrl(service.url), options.protocols ?? [], { headers: options.token ? auth(options.token) : {} });
      ws.on('open', () => {
        resolve(`open:${ws.protocol}`);
        ws.close();
      });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => {});
    });
    const ingest = await newToken('ingest');
    expect(await upgrade({})).toBe(401);
    expect(await upgrade({ token: 'qjt_unknown_token_00000000000000000000000000' })).toBe(401);
    expect(await upgrade({ token: ingest.token })).toBe(403);
    expect(await upgrade({ token: TEST_TOKEN })).toBe('open:');
    // As a browser does it: the token as a subprotocol beside the feed's own, which the server selects.
    expect(await upgrade({ protocols: ['qingjian.v1', `bearer.${TEST_TOKEN}`] })).toBe('open:qingjian.v1');
  });
});

describe('people, not strings', () => {
  it("tells a token's holder who they are (GET /v1/me): name, unit, role, jurisdiction, permissions", async () => {
    const person = await newToken('discipline', { name: '张三', unit: '德州市纪委监委', jurisdiction: '3714' });
    const me = await call('GET', '/v1/me', person.token);
    expect(me).toMatchObject({ status: 200, body: { id: person.id, name: '张三', unit: '德州市纪委监委', role: 'discipline', jurisdiction: '3714', shared: false, enterprise_id: '' } });
    expect(me.body.permissions).toContain('alerts:act');
    expect(me.body.permissions).not.toContain('tokens:admin');
    expect((await call('GET', '/v1/me', null)).status).toBe(401);
    expect((await call('POST', '/v1/tokens', TEST_TOKEN, { name: 'x', role: 'justice', shared: 'yes' })).body.errors).toEqual([{ index: null, field: 'shared', message: 'must be true or false' }]);
  });

  it("records every action under the token's holder, marks an office's shared token, and refuses a body naming someone else", async () => {
    const office = await newToken('discipline', { name: '德州市纪委监委值班室', unit: '德州市纪委监委', shared: true, jurisdiction: '3714' });
    const person = await newToken('discipline', { name: '李四', unit: '德州市纪委监委', jurisdiction: '3714' });
    const silence = { matchers: { region: '3714', rule: 'no-plan' }, reason: '系统调试', duration_minutes: 5 };
    const refused = await call('POST', '/v1/silences', person.token, { ...silence, created_by: '王五' });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([{ index: null, field: 'created_by', message: expect.stringContaining('李四') }]);
    const byOffice = await call('POST', '/v1/silences', office.token, silence);
    expect(byOffice.body.created_by).toBe('德州市纪委监委值班室');
    expect((await call('POST', `/v1/silences/${byOffice.body.id}/expire`, person.token, { actor: '王五' })).body.errors[0].field).toBe('actor');
    expect((await call('POST', `/v1/silences/${byOffice.body.id}/expire`, person.token, { actor: '李四' })).body.expired_by).toBe('李四');
    const entries = (await call('GET', `/v1/audit?target_kind=silence&target_id=${byOffice.body.id}`, TEST_TOKEN)).body.items;
    expect(entries.map((e: any) => [e.action, e.actor, e.actor_token, e.actor_unit, e.actor_shared])).toEqual([
      ['silence.expire', '李四', person.id, '德州市纪委监委', false],
      ['silence.create', '德州市纪委监委值班室', office.id, '德州市纪委监委', true],
    ]);
  });
});

describe('token changes are audited before they are written', () => {
  it('leaves no token created or revoked without its audit entry when the process dies between the two writes', async () => {
    // Every second insert fails, as a crash between an action's two writes would leave it.
    let inserts = 0;
    const crashing = new Proxy(service.storage, {
      get(target, key) {
        if (key === 'insert') return (table: string, rows: never[]) => (++inserts % 2 === 0 ? Promise.reject(new Error(`crash before writing ${table}`)) : target.insert(table, rows));
        const value = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as Storage;
    const tokens = createTokenStore(crashing);
    const app = new Hono();
    app.use('*', authenticate({ tokens, metricsPublic: false }));
    app.route('/', tokenRoutes(tokens, createAuditLog(crashing), { regions: async () => new Map() }));
    const request = (path: string, body?: unknown) => app.request(path, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });

    const survivor = await newToken('justice', { name: 'crash-survivor' });
    expect((await request('/v1/tokens', { name: 'crash-victim', role: 'justice' })).status).toBe(500);
    expect((await request(`/v1/tokens/${survivor.id}/revoke`)).status).toBe(500);

    const stored = await service.storage.query<{ id: string; revoked: number }>(
      "SELECT id, revoked_at IS NOT NULL AS revoked FROM api_tokens FINAL WHERE name IN ('crash-victim', 'crash-survivor')");
    const entries = new Set((await service.storage.query<{ id: string }>("SELECT id FROM audit_log FINAL WHERE target_kind = 'token'")).map((e) => e.id));
    expect(stored.map((t) => t.id)).toEqual([survivor.id]);
    for (const token of stored) {
      expect(entries, `${token.id} was created`).toContain(`token:${token.id}:create`);
      if (Number(token.revoked)) expect(entries, `${token.id} was revoked`).toContain(`token:${token.id}:revoke`);
    }
    expect((await call('GET', '/v1/alerts', survivor.token)).status).toBe(200);
  });
});

describe('the access policy', () => {
  it('names every route the service answers, so none is open by omission', () => {
    expect(service.routes.size).toBeGreaterThan(30);
    for (const [route, access] of service.routes) expect(access, route).toBeDefined();
  });

  it('refuses a route that declared no access rule, and shows it as such', async () => {
    const routes = routeGroup();
    routes.openapi(defineRoute({ method: 'get', path: '/declared', access: 'public', responses: { 200: { description: 'ok' } } }), (c) => c.text('ok'));
    routes.get('/undeclared', (c) => c.text('open?'));
    expect(routeAccess(routes)).toEqual(new Map([['GET /declared', 'public'], ['GET /undeclared', undefined]]));
    const app = new Hono().use('*', authenticate({ tokens: createTokenStore(service.storage), metricsPublic: false })).route('/', routes);
    expect((await app.request('/declared')).status).toBe(200);
    expect(await (await app.request('/undeclared')).json()).toEqual({ error: 'forbidden', message: 'GET /undeclared has no access policy' });
  });
});

describe('jurisdiction: a 德州 (3714) token never sees 烟台 (3706)', () => {
  const dezhou = creditCode('371402', 9101);
  const yantai = creditCode('370602', 9102);
  const seen: string[] = [];
  let tokens: Record<'discipline' | 'hotline' | 'ingest', string>;
  let alertOf: Record<'dezhou' | 'yantai', string>;
  let ticketOf: Record<'dezhou' | 'yantai', string>;

  // Every answer a 3714 token gets is kept, to check none of them mentions 烟台's company.
  const as = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await call(method, path, token, body);
    seen.push(JSON.stringify(res.body));
    return res;
  };

  beforeAll(async () => {
    const put = (body: unknown) => call('PUT', '/v1/enterprises', TEST_TOKEN, body);
    expect((await put([
      { enterprise_id: dezhou, name: '德州测试企业', region: '371402', credit_grade: 'C' },
      { enterprise_id: yantai, name: '烟台测试企业', region: '370602', credit_grade: 'C' },
    ])).status).toBe(200);
    // An alert and a ticket in each city, by the rules in force there. 德州: an on-site record with no scan
    // (entry-without-scan, whose alerts also open a ticket). 烟台: an unplanned visit (no-plan) and a complaint (a ticket).
    const day = MID_MONTH_WEEK_AGO;
    const unscanned = inspection({
      enterprise_id: dezhou, started_at: shanghaiAt(day, '09:30:00'), ended_at: shanghaiAt(day, '11:00:00'), occurred_at: shanghaiAt(day, '15:00:00'),
    });
    const visit = checkin({ enterprise_id: yantai, region: '370602', agency_id: '370600-SCJG', officer_ids: ['370600-SCJG-001'], occurred_at: shanghaiAt(day) });
    expect((await call('POST', '/v1/events', TEST_TOKEN, [unscanned, visit, complaint({ enterprise_id: yantai, region: '370602' })])).status).toBe(202);
    const alertIn = (company: string, rule: string) => eventually(async () =>
      (await call('GET', `/v1/alerts?enterprise=${company}&rule=${rule}`, TEST_TOKEN)).body.items[0]?.id as string | undefined, 20_000, `alert of ${company}`);
    const ticketIn = (company: string) => eventually(async () =>
      (await call('GET', `/v1/hotline/tickets?limit=1000`, TEST_TOKEN)).body.items.find((t: any) => t.enterprise_id === company)?.id as string | undefined, 20_000, `ticket of ${company}`);
    alertOf = { dezhou: await alertIn(dezhou, 'entry-without-scan'), yantai: await alertIn(yantai, 'no-plan') };
    ticketOf = { dezhou: await ticketIn(dezhou), yantai: await ticketIn(yantai) };
    const make = async (role: string) => (await newToken(role, { jurisdiction: '3714' })).token;
    tokens = { discipline: await make('discipline'), hotline: await make('hotline'), ingest: await make('ingest') };
  }, 60_000);

  it('lists, reads and acts on alerts of its own region only', async () => {
    const list = await as(tokens.discipline, 'GET', '/v1/alerts?limit=1000');
    expect(list.body.items.map((a: any) => a.id)).toContain(alertOf.dezhou);
    expect(list.body.items.every((a: any) => a.region.startsWith('3714'))).toBe(true);
    expect((await as(tokens.discipline, 'GET', '/v1/alerts?region=3706')).body.items).toEqual([]);
    expect((await as(tokens.discipline, 'GET', `/v1/alerts/${alertOf.yantai}`)).status).toBe(404);
    expect((await as(tokens.discipline, 'POST', `/v1/alerts/${alertOf.yantai}/ack`, {})).status).toBe(404);
    expect((await call('GET', `/v1/alerts/${alertOf.yantai}`, TEST_TOKEN)).body.status).toBe('open');
    expect((await as(tokens.discipline, 'GET', `/v1/alerts/${alertOf.dezhou}`)).status).toBe(200);
  });

  it('hears only its own region on the live feed', async () => {
    const listen = (token: string) => new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(feedUrl(service.url), { headers: auth(token) });
      ws.on('open', () => resolve(ws));
      ws.on('error', reject);
    });
    const received: any[] = [];
    const ws = await listen(tokens.discipline);
    ws.on('message', (data) => received.push(JSON.parse(data.toString())));
    ws.send(JSON.stringify({ type: 'subscribe', filters: {}, after: '0-0' }));
    try {
      await eventually(async () => (received.some((m) => m.type === 'caught_up') ? true : undefined), 10_000, 'caught_up');
      const alerts = received.filter((m) => m.type === 'alert').map((m) => m.alert);
      expect(alerts.map((a) => a.id)).toContain(alertOf.dezhou);
      expect(alerts.every((a) => a.region.startsWith('3714'))).toBe(true);
      seen.push(JSON.stringify(received));
    } finally {
      ws.close();
    }
  });

  it('sees its own timelines, tickets, companies and silences only', async () => {
    expect((await as(tokens.discipline, 'GET', `/v1/enterprises/${yantai}/timeline`)).status).toBe(404);
    expect((await as(tokens.discipline, 'GET', `/v1/enterprises/${dezhou}/timeline`)).status).toBe(200);
    expect((await as(tokens.discipline, 'GET', `/v1/enterprises/${yantai}`)).status).toBe(404);
    const tickets = await as(tokens.hotline, 'GET', '/v1/hotline/tickets?limit=1000');
    expect(tickets.body.items.map((t: any) => t.id)).toContain(ticketOf.dezhou);
    expect(tickets.body.items.every((t: any) => t.region.startsWith('3714'))).toBe(true);
    expect((await as(tokens.hotline, 'GET', `/v1/hotline/tickets/${ticketOf.yantai}`)).status).toBe(404);
    expect((await as(tokens.hotline, 'POST', `/v1/hotline/tickets/${ticketOf.yantai}/claim`, {})).status).toBe(404);

    expect((await call('POST', '/v1/silences', TEST_TOKEN, { matchers: { region: '3706' }, reason: '烟台演练', duration_minutes: 60 })).status).toBe(201);
    const wide = await as(tokens.discipline, 'POST', '/v1/silences', { matchers: { region: '37' }, reason: '全省', duration_minutes: 60 });
    expect(wide.status).toBe(400);
    expect(wide.body.errors[0].field).toBe('matchers.region');
    const own = await as(tokens.discipline, 'POST', '/v1/silences', { matchers: { rule: 'no-plan' }, reason: '德州演练', duration_minutes: 60 });
    expect(own.body.matchers.region).toBe('3714');
    const silences = await as(tokens.discipline, 'GET', '/v1/silences');
    expect(silences.body.items.map((s: any) => s.matchers.region)).toEqual(['3714']);
  });

  it('cannot send or change data outside its region', async () => {
    const events = await as(tokens.ingest, 'POST', '/v1/events', [checkin({ enterprise_id: dezhou }), checkin({ enterprise_id: yantai, region: '370602' })]);
    expect(events.status).toBe(403);
    expect(events.body.errors).toEqual([expect.objectContaining({ index: 1, field: 'region' }), expect.objectContaining({ index: 1, field: 'enterprise_id' })]);
    const companies = await as(tokens.ingest, 'PUT', '/v1/enterprises', [{ enterprise_id: yantai, name: '改名', region: '370602', credit_grade: 'A' }]);
    expect(companies.status).toBe(403);
    expect((await call('GET', `/v1/enterprises/${yantai}`, TEST_TOKEN)).body.name).toBe('烟台测试企业');
  });

  afterAll(() => {
    const answers = seen.join('\n');
    for (const secret of [yantai, alertOf.yantai, ticketOf.yantai, '烟台测试企业', '烟台演练']) expect(answers).not.toContain(secret);
  });
});

describe('qingjian tokens (the CLI, through the running API)', () => {
  const cli = (...args: string[]) => new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'tokens', ...args, '--url', service.url], {
      env: { ...process.env, QINGJIAN_TOKEN: TEST_TOKEN, LOG_LEVEL: 'silent' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

  it('creates a token (printed once), lists it, revokes it, and names bad input', async () => {
    const created = await cli('create', '--name', '德州市纪委 值班', '--role', 'discipline', '--jurisdiction', '3714');
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^qjt_/);
    expect((await call('GET', '/v1/alerts', token)).status).toBe(200);
    const id = /created (tok-[0-9a-f]+)/.exec(created.stderr)![1]!;
    const listed = await cli('list');
    expect(listed.stdout).toContain(`${id}\tdiscipline\t3714\tactive\t德州市纪委 值班`);
    expect(listed.stdout).not.toContain(token);
    expect((await cli('revoke', id)).code).toBe(0);
    expect((await call('GET', '/v1/alerts', token)).status).toBe(401);
    const bad = await cli('create', '--name', 'x', '--role', 'justice', '--jurisdiction', '37x');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('jurisdiction');
    const wrongRole = await cli('create', '--name', 'x', '--role', 'boss');
    expect(wrongRole.code).not.toBe(0);
    expect(wrongRole.stderr).toContain('boss');
  }, 60_000);
});
