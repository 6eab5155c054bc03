import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkin } from './support/fixtures.js';
import { auth, startTestService, TEST_TOKEN, type TestService } from './support/service.js';

/**
 * What a request body may cost, on the real service over real sockets: bounds
 * that hold before anything is parsed, a caller without a token answered from
 * the headers alone, a body that trickles answered and closed, error bodies
 * that stay small, and a page policy nothing in the request can write into.
 */
const BODY_TIMEOUT_MS = 1_000;
let service: TestService;

beforeAll(async () => {
  service = await startTestService({ REQUEST_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS), RULES_WATCH: 'false' });
});
afterAll(() => service?.dispose());

async function send(method: string, path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const started = performance.now();
  const res = await fetch(`${service.url}${path}`, { method, headers: { ...auth(), ...headers }, body });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text), ms: performance.now() - started };
}

/**
 * Writes raw bytes, then waits for the server: everything it sent, and whether it closed the
 * connection, by `waitMs` at the latest (the client never closes first).
 */
function raw(bytes: string, waitMs: number): Promise<{ text: string; closed: boolean; ms: number }> {
  const { port } = new URL(service.url);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(bytes));
    let text = '';
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed, ms: performance.now() - started });
    };
    const timer = setTimeout(() => done(false), waitMs);
    socket.on('data', (d) => (text += d.toString()));
    socket.on('end', () => done(true));
    socket.on('error', reject);
  });
}

describe('6. bounds that hold before the body is parsed', () => {
  it('refuses 5 MB of nesting without parsing it, as a 400 naming the problem', async () => {
    const deep = `${'['.repeat(2_500_000)}${']'.repeat(2_500_000)}`;
    for (const contentType of ['application/json', 'application/x-ndjson']) {
      const res = await send('POST', '/v1/events', deep, { 'content-type': contentType });
      expect(res.status, contentType).toBe(400);
      expect(res.json.error, contentType).toBe('too_deeply_nested');
    }
    const ticket = await send('POST', '/v1/hotline/tickets/x/claim', `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`);
    expect(ticket.json.error).toBe('too_deeply_nested');
  });

  it("limits people's routes to kilobytes, while platforms' bulk routes keep INGEST_MAX_BYTES", async () => {
    const silence = JSON.stringify({ matchers: { rule: 'no-plan' }, reason: '演练'.repeat(40_000), duration_minutes: 5 });
    const res = await send('POST', '/v1/silences', silence);
    expect(res.status).toBe(413);
    expect(res.json.error).toBe('body_too_large');
    const chunked = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(silence)); c.close(); } });
    const streamed = await fetch(`${service.url}/v1/silences`, {
      method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: chunked, duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    // The same size is a batch a platform may send: its problems are validation, not size.
    const batch = await send('POST', '/v1/events', JSON.stringify([{ id: 'x'.repeat(200_000) }]));
    expect(batch.json.error).toBe('validation_failed');
  });
});

describe('7. slow bodies', () => {
  const head = (token: string | null, length: number, path = '/v1/events') =>
    `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${token ? `Authorization: Bearer ${token}\r\n` : ''}\r\n`;

  it('answers a caller without a token from the headers at once, and closes, without waiting for its body', async () => {
    for (const [path, status] of [['/v1/events', 401], ['/v1/no-such-route', 404], ['/healthz', 404]] as const) {
      const res = await raw(head(null, 100_000, path), 5_000);
      expect(res.text, path).toMatch(new RegExp(`^HTTP/1\\.1 ${status}`));
      expect(res.closed, path).toBe(true);
      expect(res.ms, path).toBeLessThan(BODY_TIMEOUT_MS);
    }
  });

  it('answers 408 and closes when a body does not arrive within REQUEST_BODY_TIMEOUT_MS', async () => {
    const res = await raw(`${head(TEST_TOKEN, 1_000)}[{"id":`, 5_000);
    expect(res.text).toMatch(/^HTTP\/1\.1 408/);
    expect(res.text).toContain('request_timeout');
    expect(res.closed).toBe(true);
    expect(res.ms).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 50);
  });
});

describe('7b. keep-alive after a body', () => {
  /** One connection, kept: each step writes its bytes and waits for the next answer's status line. */
  async function onOneConnection(steps: Array<{ bytes: string; pauseMs?: number }>): Promise<string[]> {
    const { port } = new URL(service.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    let text = '';
    let closed = false;
    socket.on('data', (d) => (text += d.toString()));
    socket.on('close', () => (closed = true));
    const statuses: string[] = [];
    try {
      for (const { bytes, pauseMs = 0 } of steps) {
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
        if (closed) break;
        socket.write(bytes);
        const seen = statuses.length;
        for (let waited = 0; (text.match(/HTTP\/1\.1 \d{3}/g) ?? []).length <= seen && !closed && waited < 5_000; waited += 20) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        statuses.push(...(text.match(/HTTP\/1\.1 \d{3}/g) ?? []).slice(seen));
      }
    } finally {
      socket.destroy();
    }
    return statuses;
  }
  const ready = 'GET /readyz HTTP/1.1\r\nHost: localhost\r\n\r\n';
  // The Node adapter drops a connection whose request body was left unread half a second after answering.
  const pauseMs = 1_000;

  // The body middleware reads a caller's body from the Node request itself; the drain after the answer must see it
  // as read (neither read it again nor close the connection).
  it('keeps the connection after a body the service read, for the next requests on it', async () => {
    const body = JSON.stringify(checkin());
    const post = `POST /v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${TEST_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    expect(await onOneConnection([{ bytes: post }, { bytes: ready, pauseMs }, { bytes: post }])).toEqual(['HTTP/1.1 202', 'HTTP/1.1 200', 'HTTP/1.1 202']);
  });
});

describe('8. smaller points', () => {
  it('needs the Content-Type of every body, on every route', async () => {
    const events = await fetch(`${service.url}/v1/events`, { method: 'POST', headers: auth(), body: new Uint8Array(Buffer.from('{"id":"x"}')) });
    expect(events.status).toBe(415);
    const revoke = await fetch(`${service.url}/v1/tokens/tok-0000000000000000/revoke`, { method: 'POST', headers: auth(), body: new Uint8Array(Buffer.from('{}')) });
    expect(revoke.status).toBe(415);
    expect((await revoke.json()).error).toBe('unsupported_media_type');
  });

  it('lists at most 100 problems, each cut short, however many the batch has', async () => {
    // 2.5 MB: 5,000 check-ins of unknown keys, one of them 300 characters long, and none of the required fields.
    const keys = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`${'k'.repeat(i === 0 ? 300 : 40)}${i}`, i]));
    const items = Array.from({ length: 5_000 }, () => ({ type: 'checkin', ...keys }));
    const body = JSON.stringify(items);
    const res = await send('POST', '/v1/events', body);
    expect(res.status).toBe(400);
    expect(res.json.errors).toHaveLength(100);
    expect(res.json.errors_omitted).toBeGreaterThan(50_000);
    expect(res.json.errors.every((e: { field: string }) => e.field.length <= 201)).toBe(true);
    expect(res.text.length).toBeLessThan(body.length / 10);
  });

  it('copies nothing of the Host header into the page policy', async () => {
    const csp = await new Promise<string>((resolve, reject) => {
      const { port } = new URL(service.url);
      request({ host: '127.0.0.1', port, path: '/', headers: { host: 'evil.example:8080' } }, (res) => {
        res.resume();
        resolve(String(res.headers['content-security-policy']));
      }).on('error', reject).end();
    });
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('evil');
  });
});
