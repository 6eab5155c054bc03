import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ROUTE_ACCESS, routeKey } from '../src/auth/index.js';
import { checkin, complaint, creditCode } from './support/fixtures.js';
import { feedUrl } from './support/feed-client.js';
import { auth, startTestService, TEST_TOKEN, type TestService } from './support/service.js';

// Bearer tokens against a real service: who gets in, and what each role may do.
let service: TestService;

beforeAll(async () => {
  service = await startTestService({ RULES_WATCH: 'false' });
});

afterAll(async () => {
  await service?.dispose();
});

async function call(method: string, path: string, token: string | null, body?: unknown) {
  const headers: Record<string, string> = token ? auth(token) : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${service.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: await res.json().catch(() => null) };
}

async function newToken(role: string, extra: Record<string, unknown> = {}) {
  const res = await call('POST', '/v1/tokens', TEST_TOKEN, { name: `${role}-user`, role, ...extra });
  expect(res.status).toBe(201);
  return res.body as { token: string; id: string };
}

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

describe('the access policy', () => {
  it('names every route the service answers, so none is open by omission', () => {
    expect(service.routes.length).toBeGreaterThan(30);
    for (const route of service.routes) {
      const [method, path] = route.split(' ') as [string, string];
      expect(ROUTE_ACCESS[routeKey(method, path)], route).toBeDefined();
    }
  });
});
