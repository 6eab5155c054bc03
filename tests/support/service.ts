import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config/index.js';
import { createLogger } from '../../src/log.js';
import { startService, type Roles, type Service } from '../../src/service.js';

export interface TestService extends Service {
  url: string;
  dataDir: string;
  config: Config;
  /** Stops the service and removes its data directory. */
  dispose(): Promise<void>;
  /** Stops the service gracefully and keeps its data directory. */
  stop(): Promise<void>;
}

/** The admin token every test service is started with (QINGJIAN_BOOTSTRAP_TOKEN); the request helpers send it. */
export const TEST_TOKEN = 'test-admin-token-0123456789abcdefghijklmnop';
export const auth = (token = TEST_TOKEN) => ({ authorization: `Bearer ${token}` });

/** A real service on a free port: its own redis-server, embedded ClickHouse (or CLICKHOUSE_URL given in env). */
export async function startTestService(
  env: Record<string, string> = {},
  roles: Roles = { api: true, worker: true },
  dataDir = mkdtempSync(join(tmpdir(), 'qingjian-test-')),
): Promise<TestService> {
  // METRICS_PORT 0: worker-only services in parallel test files must not race for one fixed port.
  // No rate limit: tests drive the API harder than a person (tests/rate-limit.test.ts sets one).
  const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', STORE_BATCH_WAIT_MS: '50', METRICS_PORT: '0', QINGJIAN_BOOTSTRAP_TOKEN: TEST_TOKEN, RATE_LIMIT_PER_MINUTE: '0', RATE_LIMIT_FEED_CONNECTS_PER_MINUTE: '0', ...env });
  const service = await startService(config, roles, createLogger(config.LOG_LEVEL));
  return {
    ...service,
    url: service.url ?? '',
    dataDir,
    config,
    async dispose() {
      await service.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls until check returns a value that isn't undefined, or fails after timeoutMs. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/**
 * POSTs as the admin test token; a body that names a person (`actor`, `created_by`) is sent with that person's
 * own token instead (personToken), since the service records actions under the token's holder and refuses a
 * body naming anyone else.
 */
export async function post(url: string, body: unknown, contentType = 'application/json'): Promise<{ status: number; body: any }> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType, ...(await actingAs(url, body)) }, body: text });
  return { status: res.status, body: await res.json().catch(() => null) };
}

export async function put(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json', ...auth() }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** A request with this token (none: no Authorization), a JSON body if given, and the answer parsed as JSON when it is. */
export async function callAs(url: string, method: string, path: string, token: string | null, body?: unknown) {
  const headers: Record<string, string> = token ? auth(token) : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: await res.json().catch(() => null) };
}

export async function get(url: string, token = TEST_TOKEN): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers: auth(token) });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/**
 * The authorization header for a request body: its person's own token when it names one (made with `admin`),
 * else the admin token itself.
 */
export async function actingAs(url: string, body: unknown, admin = TEST_TOKEN): Promise<{ authorization: string }> {
  const named = body && typeof body === 'object' ? (body as { actor?: unknown; created_by?: unknown }) : {};
  const person = [named.actor, named.created_by].find((n): n is string => typeof n === 'string' && n.trim() !== '' && n.trim().length <= 64);
  return auth(person ? await personToken(new URL(url).origin, person.trim(), 'admin', {}, admin) : admin);
}

const people = new Map<string, Promise<string>>();

/** The token of a person (an admin, unless a role is given), made through the API on first use per service. */
export function personToken(url: string, name: string, role = 'admin', extra: Record<string, unknown> = {}, admin = TEST_TOKEN): Promise<string> {
  const key = JSON.stringify([url, name, role, extra, admin]);
  let made = people.get(key);
  if (!made) {
    made = createToken(url, role, { name, ...extra }, admin).then((created) => created.token);
    people.set(key, made);
  }
  return made;
}

/** Creates a token through the API with an admin token (the test one by default); returns the token (shown once) and its record. */
export async function createToken(url: string, role: string, extra: Record<string, unknown> = {}, admin = TEST_TOKEN): Promise<{ token: string; id: string }> {
  const res = await fetch(`${url}/v1/tokens`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...auth(admin) }, body: JSON.stringify({ name: `${role}-user`, role, ...extra }),
  });
  const body = await res.json().catch(() => null);
  if (res.status !== 201) throw new Error(`POST /v1/tokens: ${res.status} ${JSON.stringify(body)}`);
  return body;
}
