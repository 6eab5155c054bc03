import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ClickHouseError, ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServerStorage } from '../src/storage/server.js';
import { startClickHouseHttp, type ClickHouseHttp } from './support/clickhouse-http.js';
import { describeStorageContract } from './support/storage-contract.js';

// The server adapter (@clickhouse/client over HTTP) against the chdb HTTP shim,
// whose engine lives in this test process (one chdb data directory per process,
// so this file must not also open the embedded adapter on another directory).
const dataDir = mkdtempSync(join(tmpdir(), 'qingjian-shim-'));
let shim: ClickHouseHttp;

beforeAll(async () => {
  shim = await startClickHouseHttp({ dataDir, port: 0 });
});
afterAll(async () => {
  await shim?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describeStorageContract('server adapter via the chdb HTTP shim', async () => {
  const storage = createServerStorage({ url: shim.url, database: 'default', username: 'default', password: '' });
  return { storage, teardown: () => storage.close() };
});

// A real ClickHouse server, when there is one. Runs in a database of its own,
// dropped afterwards, so reruns start clean and nothing else is touched.
const realServer = process.env.CLICKHOUSE_URL;
if (realServer) {
  describeStorageContract(`server adapter against ${realServer}`, async () => {
    const credentials = { username: process.env.CLICKHOUSE_USER ?? 'default', password: process.env.CLICKHOUSE_PASSWORD ?? '' };
    const admin = createServerStorage({ url: realServer, database: 'default', ...credentials });
    const database = `qingjian_contract_${randomUUID().replace(/-/g, '')}`;
    await admin.command(`CREATE DATABASE ${database}`);
    const storage = createServerStorage({ url: realServer, database, ...credentials });
    return {
      storage,
      async teardown() {
        await storage.close();
        await admin.command(`DROP DATABASE IF EXISTS ${database}`);
        await admin.close();
      },
    };
  });
}

describe('chdb HTTP shim speaks ClickHouse HTTP', () => {
  const quiet = { log: { level: ClickHouseLogLevel.OFF } };
  const clients: ClickHouseClient[] = [];
  const client = (options: Parameters<typeof createClient>[0] = {}) => {
    const c = createClient({ url: shim.url, ...quiet, ...options });
    clients.push(c);
    return c;
  };
  const post = (query: string, body?: string | Uint8Array<ArrayBufferLike>, headers: Record<string, string> = {}) =>
    fetch(`${shim.url}/?${query}`, { method: 'POST', body: typeof body === 'string' || body === undefined ? body : new Uint8Array(body), headers });

  beforeAll(async () => {
    await client().command({ query: 'CREATE TABLE IF NOT EXISTS shim_t (a String, n UInt64) ENGINE = MergeTree ORDER BY a' });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
  });

  it('answers health checks with Ok.', async () => {
    for (const path of ['/ping', '/', '/replicas_status']) {
      const res = await fetch(`${shim.url}${path}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('Ok.\n');
    }
    expect(await client().ping()).toEqual({ success: true });
    expect(await client().ping({ select: true })).toEqual({ success: true });
  });

  it('runs GET ?query= and POST bodies, joining the query parameter and the body', async () => {
    const get = await fetch(`${shim.url}/?query=${encodeURIComponent('SELECT 1 + 1')}`);
    expect(await get.text()).toBe('2\n'); // TabSeparated by default
    const joined = await post(`query=${encodeURIComponent('SELECT')}`, "'joined' AS x FORMAT JSONEachRow");
    expect(await joined.text()).toBe('{"x":"joined"}\n');
    expect(joined.headers.get('content-type')).toMatch(/application\/json/);
    const byFormat = await post('default_format=JSONEachRow', 'SELECT 7 AS seven');
    expect(await byFormat.text()).toBe('{"seven":7}\n');
  });

  it('echoes query_id and reports written rows of an insert in X-ClickHouse-Summary', async () => {
    const res = await post(
      `query=${encodeURIComponent('INSERT INTO shim_t FORMAT JSONEachRow')}&query_id=insert-42`,
      '{"a":"x","n":1}\n{"a":"y","n":2}\n{"a":"z","n":3}\n',
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-clickhouse-query-id')).toBe('insert-42');
    expect(JSON.parse(res.headers.get('x-clickhouse-summary') ?? '{}')).toMatchObject({ written_rows: '3' });

    const { summary, query_id } = await client().insert({ table: 'shim_t', values: [{ a: 'w', n: 4 }], format: 'JSONEachRow', query_id: 'mine' });
    expect(query_id).toBe('mine');
    expect(summary?.written_rows).toBe('1');
    const unknown = await post(`query_id=${randomUUID()}`, 'SELECT 1');
    expect(unknown.headers.get('x-clickhouse-query-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers errors like a server: status by error type, exception code header, Code: N body', async () => {
    const cases: Array<[string, number, string]> = [
      ['SELECT * FROM no_such_table', 404, '60'],
      ['SELECT no_such_column', 404, '47'],
      ['SELEKT 1', 400, '62'],
      ["SELECT throwIf(1, 'boom')", 500, '395'],
      ['SELECT 1; SELECT 2', 400, '62'],
      ['', 400, '62'],
    ];
    for (const [sql, status, code] of cases) {
      const res = await post('', sql);
      expect(res.status, sql).toBe(status);
      expect(res.headers.get('x-clickhouse-exception-code'), sql).toBe(code);
      expect(await res.text(), sql).toMatch(new RegExp(`^Code: ${code}\\. DB::Exception: .*\\([A-Z_]+\\)`, 's'));
    }
    const err = await client().query({ query: 'SELECT * FROM no_such_table' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClickHouseError);
    expect(err).toMatchObject({ code: '60', type: 'UNKNOWN_TABLE' });
  });

  it('runs queries in the database asked for, and refuses an unknown one', async () => {
    await client().command({ query: 'CREATE DATABASE IF NOT EXISTS shim_other' });
    const other = client({ database: 'shim_other' });
    await other.command({ query: 'CREATE TABLE IF NOT EXISTS only_here (a String) ENGINE = MergeTree ORDER BY a' });
    await other.insert({ table: 'only_here', values: [{ a: 'there' }], format: 'JSONEachRow' });
    const rows = await (await other.query({ query: 'SELECT currentDatabase() AS db, a FROM only_here', format: 'JSONEachRow' })).json();
    expect(rows).toEqual([{ db: 'shim_other', a: 'there' }]);
    await expect(client().query({ query: 'SELECT a FROM only_here' })).rejects.toMatchObject({ code: '60' });

    const missing = await post('database=no_such_db', 'SELECT 1');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-clickhouse-exception-code')).toBe('81');
  });

  it('binds param_ values as ClickHouse escaped text, in the URL or in a multipart body', async () => {
    const params = { s: "it's a \\ and a\nnewline\t中", arr: ["x'y", 'z\\w', 'n\nl'], nothing: null, when: new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 678)) };
    const sql = "SELECT {s:String} AS s, {arr:Array(String)} AS arr, {nothing:Nullable(String)} AS nothing, {when:DateTime64(3, 'UTC')} AS when";
    const expected = [{ s: params.s, arr: params.arr, nothing: null, when: '2025-01-02 03:04:05.678' }];
    for (const c of [client(), client({ use_multipart_params: true })]) {
      const rows = await (await c.query({ query: sql, query_params: params, format: 'JSONEachRow' })).json();
      expect(rows).toEqual(expected);
    }
    const raw = await post(`param_x=${encodeURIComponent("a\\tb\\'c\\\\d")}`, 'SELECT {x:String} AS x FORMAT JSONEachRow');
    expect(await raw.json()).toEqual({ x: "a\tb'c\\d" });
  });

  it('reads gzip request bodies and compresses responses when asked', async () => {
    const zipped = client({ compression: { request: true, response: true } });
    await zipped.insert({ table: 'shim_t', values: [{ a: 'gz', n: 5 }], format: 'JSONEachRow' });
    const rows = await (await zipped.query({ query: "SELECT a, n FROM shim_t WHERE a = 'gz'", format: 'JSONEachRow' })).json();
    expect(rows).toEqual([{ a: 'gz', n: 5 }]);

    const res = await post('', gzipSync("SELECT 'from gzip' AS x FORMAT JSONEachRow"), { 'Content-Encoding': 'gzip' });
    expect(await res.json()).toEqual({ x: 'from gzip' });
    const broken = await post('', Buffer.from('not gzip at all'), { 'Content-Encoding': 'gzip' });
    expect(broken.status).toBe(400);
    expect(await broken.text()).toMatch(/^Code: 271\./);
  });

  it('applies settings per request without leaking them to the next one', async () => {
    // one engine connection, so every request below shares it
    const single = await startClickHouseHttp({ dataDir, port: 0, connections: 1 });
    try {
      const ask = (query: string, sql: string) => fetch(`${single.url}/?${query}`, { method: 'POST', body: sql }).then((r) => r.text());
      const sql = 'SELECT toUInt64(1) AS n FORMAT JSONEachRow';
      expect(await ask('output_format_json_quote_64bit_integers=1', sql)).toBe('{"n":"1"}\n');
      expect(await ask('', sql)).toBe('{"n":1}\n');
      expect(await ask('max_threads=3', "SELECT getSetting('max_threads') AS t FORMAT JSONEachRow")).toBe('{"t":3}\n');
      expect(await ask('', "SELECT getSetting('max_threads') = 3 AS t FORMAT JSONEachRow")).toBe('{"t":0}\n');
      // a SET statement lasts for its own request only, as over a server's stateless HTTP
      expect(await ask('', 'SET output_format_json_quote_64bit_integers = 1')).toBe('');
      expect(await ask('', sql)).toBe('{"n":1}\n');
      const unknown = await fetch(`${single.url}/?no_such_setting=1`, { method: 'POST', body: 'SELECT 1' });
      expect(unknown.status).toBe(404);
      expect(unknown.headers.get('x-clickhouse-exception-code')).toBe('115');
      expect(await ask('', 'SELECT 1')).toBe('1\n');
    } finally {
      await single.close();
    }
  });

  it('serves queries in parallel across its engine connections', async () => {
    const c = client();
    const started = Date.now();
    await Promise.all(Array.from({ length: 4 }, () => c.command({ query: 'SELECT sleep(1)' })));
    expect(Date.now() - started).toBeLessThan(3500);
  });

  it('survives bad requests', async () => {
    const put = await fetch(`${shim.url}/`, { method: 'PUT', body: 'SELECT 1' });
    expect(put.status).toBe(405);
    const session = await post('session_id=abc', 'SELECT 1');
    expect(session.status).toBe(501);
    const multipart = await post('', 'garbage', { 'Content-Type': 'multipart/form-data' });
    expect(multipart.status).toBe(400);
    const binary = await post(`query=${encodeURIComponent('INSERT INTO shim_t FORMAT RowBinary')}`, Buffer.from([1, 2, 3]));
    expect(binary.status).toBe(501);
    const badInsert = await post(`query=${encodeURIComponent('INSERT INTO shim_t FORMAT JSONEachRow')}`, '{"a": oops}\n');
    expect(badInsert.status).toBeGreaterThanOrEqual(400);
    expect(badInsert.headers.get('x-clickhouse-exception-code')).toMatch(/^\d+$/);

    await new Promise<void>((resolve) => {
      const { port, hostname } = new URL(shim.url);
      const socket = connect(Number(port), hostname, () => socket.end('NOT HTTP AT ALL\r\n\r\n'));
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
      socket.resume();
    });
    const aborted = new AbortController();
    const pending = post('', 'SELECT sleep(0.5)').catch(() => undefined);
    const abortedReq = fetch(`${shim.url}/`, { method: 'POST', body: 'SELECT sleep(0.2)', signal: aborted.signal }).catch(() => undefined);
    aborted.abort();
    await Promise.all([pending, abortedReq]);

    expect(await (await fetch(`${shim.url}/ping`)).text()).toBe('Ok.\n');
    expect(await (await post('', 'SELECT count() > 0 FROM shim_t')).text()).toBe('1\n');
  });
});
