/**
 * TEST SUPPORT — not a production component. Never point production at it.
 *
 * A loopback HTTP server that answers the part of ClickHouse's HTTP interface
 * that @clickhouse/client uses, from an embedded chdb engine (one data
 * directory, this process). It exists so that the server storage adapter
 * (src/storage/server.ts) can be tested in CI where no ClickHouse server can be
 * installed, and so that several Qingjian processes (API, workers) can share
 * one store on a developer machine: they talk HTTP to the one process that
 * owns the engine (chdb allows one data directory per process).
 *
 * Covered:
 * - GET/HEAD `/ping` (and `…/ping` under a path prefix), GET `/` without a
 *   query, `/replicas_status`: `Ok.\n`.
 * - Queries, commands and inserts by POST (or GET `?query=`): SQL in the
 *   body, or in the `query` URL parameter, or both (ClickHouse joins them as
 *   `query + '\n' + body`; for `INSERT … FORMAT x` the body is the data).
 *   Text insert formats with a plain table name go through chdb's zero-copy
 *   raw insert; other inserts run as one statement with the data inline.
 * - `param_<name>` URL parameters (and multipart/form-data `query` and
 *   `param_*` parts, which the client uses for large parameters), bound
 *   server-side through chdb. Values are ClickHouse "escaped" text; they are
 *   re-encoded so the engine parses exactly what a server would (see
 *   `bindValue`).
 * - `database` (or `X-ClickHouse-Database`): queries run in that database;
 *   an unknown one answers UNKNOWN_DATABASE like a server.
 * - `default_format` (or `X-ClickHouse-Format`), else TabSeparated.
 * - Settings as URL parameters (`date_time_input_format=…`): applied to the
 *   engine connection that runs the request, and undone for the next one.
 *   Settings that only mean something to an HTTP server are ignored.
 * - `query_id` echoed in `X-ClickHouse-Query-Id` (generated when absent);
 *   `X-ClickHouse-Summary` (written rows for inserts), `X-ClickHouse-Format`,
 *   `X-ClickHouse-Timezone`.
 * - Request bodies with `Content-Encoding` gzip, deflate or br (zstd where
 *   Node has it); responses compressed when `enable_http_compression=1` and
 *   the client accepts gzip, deflate or br.
 * - Errors as a server answers them: status 400/404/500 (…) chosen by error
 *   type, `X-ClickHouse-Exception-Code`, body `Code: N. DB::Exception: … (TYPE)`,
 *   so @clickhouse/client raises a ClickHouseError with the right code.
 * - Multi-statement requests are refused (SYNTAX_ERROR) as a server does.
 *
 * Not covered: authentication (any user/password is accepted), `session_id`
 * sessions, external data (multipart files), ClickHouse's own `compress` /
 * `decompress` block format, binary insert formats (RowBinary, Native,
 * Parquet…), progress headers, `readonly` for GET, query cancellation.
 *
 * Concurrency: each database gets a small pool of engine connections
 * (`connections`, default 4), one request per connection at a time, so
 * queries without parameters run in parallel. chdb itself runs queries with
 * bound parameters one at a time process-wide (its binder is not safe under
 * concurrency), so those queue inside chdb.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { Session, drainPending, type ChdbResult, type RawInsertFormat } from 'chdb';

export interface ClickHouseHttpOptions {
  /** The chdb data directory (created if missing). One per process. */
  dataDir: string;
  /** TCP port; 0 or absent picks a free one. */
  port?: number;
  /** Interface to listen on; loopback by default. */
  host?: string;
  /** Engine connections per database, i.e. requests served at once per database (default 4). */
  connections?: number;
}

export interface ClickHouseHttp {
  /** Base URL for @clickhouse/client, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Stops accepting, waits for requests in flight, then releases the engine. */
  close(): Promise<void>;
}

export async function startClickHouseHttp(options: ClickHouseHttpOptions): Promise<ClickHouseHttp> {
  const host = options.host ?? '127.0.0.1';
  const connections = options.connections !== undefined && Number.isFinite(options.connections) && options.connections >= 1 ? Math.floor(options.connections) : 4;
  const engine = await Engine.open(options.dataDir, connections);

  let inFlight = 0;
  let drained: (() => void) | null = null;
  const server = createServer({ maxHeaderSize: 1024 * 1024 }, (req, res) => {
    inFlight++;
    handle(engine, req, res)
      .catch((err: unknown) => {
        // handle() answers its own errors; this only guards against a bug in it.
        try {
          if (!res.headersSent) sendException(res, randomUUID(), toException(err));
          else res.destroy();
        } catch {
          /* the connection is gone */
        }
      })
      .finally(() => {
        if (--inFlight === 0 && drained) drained();
      });
  });
  server.keepAliveTimeout = 10_000;
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await engine.close();
    throw err;
  }
  server.on('error', () => {
    /* a listening server only reports socket-level trouble here; never crash on it */
  });

  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost}:${port}`,
    close: () =>
      (closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
        server.closeAllConnections();
        await stopped;
        await engine.close();
      })()),
  };
}

// ---------------------------------------------------------------------------
// The engine: chdb sessions on one data directory, pooled per database.

interface Conn {
  session: Session;
  /** Settings this connection currently has changed from the engine's defaults. */
  settings: Map<string, string>;
}

class Engine {
  private readonly pools = new Map<string, Pool>();
  private closed = false;

  private constructor(
    readonly dataDir: string,
    private readonly connections: number,
    readonly version: string,
    readonly timezone: string,
    readonly defaults: ReadonlyMap<string, string>,
    first: Conn,
  ) {
    const pool = new Pool(this, 'default', connections);
    pool.adopt(first);
    this.pools.set('default', pool);
  }

  static async open(dataDir: string, connections: number): Promise<Engine> {
    mkdirSync(dataDir, { recursive: true });
    const session = new Session(dataDir);
    try {
      const info = (await session.queryAsync('SELECT version() AS version, timezone() AS timezone', { format: 'JSONEachRow' })).json<{
        version: string;
        timezone: string;
      }>();
      const settings = await session.queryAsync('SELECT name, value FROM system.settings', { format: 'JSONEachRow' });
      const defaults = new Map<string, string>();
      for (const line of settings.text().split('\n')) {
        if (!line) continue;
        const { name, value } = JSON.parse(line) as { name: string; value: string };
        defaults.set(name, value);
      }
      return new Engine(dataDir, connections, info.version, info.timezone, defaults, { session, settings: new Map() });
    } catch (err) {
      session.close();
      throw err;
    }
  }

  pool(database: string): Pool {
    let pool = this.pools.get(database);
    if (!pool) this.pools.set(database, (pool = new Pool(this, database, this.connections)));
    return pool;
  }

  /** Forgets a pool that never managed to open a connection (e.g. an unknown database). */
  forget(pool: Pool): void {
    if (pool.database !== 'default' && pool.isEmpty() && this.pools.get(pool.database) === pool) this.pools.delete(pool.database);
  }

  async openConn(database: string): Promise<Conn> {
    if (this.closed) throw exception(49, 'LOGICAL_ERROR', 'The ClickHouse HTTP test server is shutting down');
    const session = new Session(this.dataDir);
    try {
      if (database !== 'default') await session.queryAsync(`USE ${quoteIdentifier(database)}`);
    } catch (err) {
      await closeSession(session);
      throw err;
    }
    return { session, settings: new Map() };
  }

  async close(): Promise<void> {
    this.closed = true;
    const pools = [...this.pools.values()];
    this.pools.clear();
    await drainPending();
    for (const pool of pools) pool.closeAll();
    await drainPending();
  }
}

/** At most `size` connections to one database; a request holds one connection from start to answer. */
class Pool {
  private readonly idle: Conn[] = [];
  private readonly all = new Set<Conn>();
  private readonly waiting: Array<() => void> = [];
  private permits: number;

  constructor(
    private readonly engine: Engine,
    readonly database: string,
    private readonly size: number,
  ) {
    this.permits = size;
  }

  adopt(conn: Conn): void {
    this.all.add(conn);
    this.idle.push(conn);
  }

  isEmpty(): boolean {
    return this.all.size === 0 && this.waiting.length === 0 && this.permits === this.size;
  }

  /** Waits for a free connection; prefers one whose changed settings already match. */
  async acquire(wanted: ReadonlyMap<string, string>): Promise<Conn> {
    if (this.permits > 0) this.permits--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      if (this.idle.length > 0) {
        let index = this.idle.findIndex((c) => sameSettings(c.settings, wanted));
        if (index < 0) index = this.idle.findIndex((c) => c.settings.size === 0);
        if (index < 0) index = this.idle.length - 1;
        return this.idle.splice(index, 1)[0]!;
      }
      const conn = await this.engine.openConn(this.database);
      this.all.add(conn);
      return conn;
    } catch (err) {
      this.releasePermit();
      this.engine.forget(this);
      throw err;
    }
  }

  /** Returns a connection; a discarded one (unknown state) is closed instead of reused. */
  release(conn: Conn, discard: boolean): void {
    if (discard || !this.all.has(conn)) {
      this.all.delete(conn);
      void closeSession(conn.session);
    } else {
      this.idle.push(conn);
    }
    this.releasePermit();
  }

  /** Replaces a connection in an unknown state by a fresh one, keeping the caller's turn. */
  async replace(conn: Conn): Promise<Conn> {
    this.all.delete(conn);
    void closeSession(conn.session);
    const fresh = await this.engine.openConn(this.database);
    this.all.add(fresh);
    return fresh;
  }

  closeAll(): void {
    for (const conn of this.all) conn.session.close();
    this.all.clear();
    this.idle.length = 0;
  }

  private releasePermit(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.permits++;
  }
}

async function closeSession(session: Session): Promise<void> {
  try {
    session.close();
  } catch {
    /* close() is documented never to throw; be sure */
  }
}

const sameSettings = (a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>) =>
  a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

// ---------------------------------------------------------------------------
// One HTTP request.

/** URL parameters that are not settings. */
const HTTP_PARAMS = new Set([
  'query', 'query_id', 'database', 'default_format', 'user', 'password', 'quota_key', 'session_id',
  'session_timeout', 'session_check', 'compress', 'decompress', 'buffer_size', 'wait_end_of_query',
  'role', 'stacktrace', 'client_protocol_version', 'close_session',
]);
/** Settings only an HTTP server acts on; meaningless for the embedded engine. */
const HTTP_ONLY_SETTINGS = new Set([
  'enable_http_compression', 'http_zlib_compression_level', 'http_response_compression_method',
  'send_progress_in_http_headers', 'http_headers_progress_interval_ms', 'http_response_buffer_size',
  'http_wait_end_of_query', 'add_http_cors_header', 'cancel_http_readonly_queries_on_client_close',
  'http_native_compression_disable_checksumming_on_decompress', 'http_write_exception_in_output_format',
  'http_response_headers', 'http_connection_timeout', 'http_send_timeout', 'http_receive_timeout',
  'async_insert_busy_timeout_ms', 'wait_for_async_insert', 'wait_for_async_insert_timeout',
]);

/** Text insert formats chdb's raw insert accepts for a zero-copy insert. */
const RAW_INSERT_FORMATS = new Set<RawInsertFormat>([
  'JSONEachRow', 'JSONCompactEachRow', 'CSV', 'CSVWithNames', 'TSV', 'TabSeparated', 'TSVWithNames', 'TabSeparatedWithNames',
]);
/** Binary formats: inline insert data must be text for chdb, so these cannot be inserted here. */
const BINARY_FORMATS = /^(RowBinary\w*|Native|Parquet|Arrow|ArrowStream|ORC|Avro|AvroConfluent|Protobuf\w*|CapnProto|MsgPack|BSONEachRow|Npy)$/i;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SIMPLE_INSERT =
  /^\s*INSERT\s+INTO\s+(?:TABLE\s+)?([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\s*(?:\(([^()]*)\))?\s*FORMAT\s+([A-Za-z0-9_]+)\s*$/i;
const INSERT_WITH_DATA = /\bFORMAT\s+([A-Za-z0-9_]+)\s*$/i;

interface Answer {
  body: Buffer;
  format?: string;
  summary: Summary;
}

interface Summary {
  read_rows: number;
  read_bytes: number;
  written_rows: number;
  written_bytes: number;
  elapsed_seconds: number;
}

async function handle(engine: Engine, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let queryId: string = randomUUID();
  try {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://localhost');
    const given = url.searchParams.get('query_id');
    if (given) queryId = given;

    if (method === 'OPTIONS') return sendText(res, 204, '', queryId);
    if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
      throw exception(1, 'UNSUPPORTED_METHOD', `HTTP method ${method} is not supported`, 405);
    }
    if (/\/(ping|replicas_status)\/?$/.test(url.pathname)) {
      await drain(req);
      return sendText(res, 200, 'Ok.\n', queryId);
    }

    const fields = new Map<string, string>(); // URL parameters and form fields, last one wins
    for (const [key, value] of url.searchParams) fields.set(key, value);
    let body = method === 'POST' ? await decompress(req, await readBody(req)) : Buffer.alloc(0);
    if (method !== 'POST') await drain(req);

    const contentType = String(req.headers['content-type'] ?? '');
    if (method === 'POST' && /^multipart\/form-data/i.test(contentType)) {
      for (const [key, value] of parseMultipart(body, contentType)) fields.set(key, value);
      body = Buffer.alloc(0);
    }

    const queryParam = fields.get('query');
    if (method !== 'POST' && queryParam === undefined) return sendText(res, 200, 'Ok.\n', queryId);
    if (fields.get('session_id')) throw exception(48, 'NOT_IMPLEMENTED', 'HTTP sessions (session_id) are not supported by the ClickHouse HTTP test server', 501);
    if (fields.get('compress') === '1' || fields.get('decompress') === '1') {
      throw exception(48, 'NOT_IMPLEMENTED', "ClickHouse's own block compression (compress/decompress) is not supported by the ClickHouse HTTP test server", 501);
    }

    const database = fields.get('database') || header(req, 'x-clickhouse-database') || 'default';
    const format = fields.get('default_format') || header(req, 'x-clickhouse-format') || 'TabSeparated';
    const params = new Map<string, string>();
    const settings = new Map<string, string>();
    for (const [key, value] of fields) {
      if (key.startsWith('param_')) params.set(key.slice('param_'.length), value);
      else if (!HTTP_PARAMS.has(key) && !HTTP_ONLY_SETTINGS.has(key)) {
        if (!IDENTIFIER.test(key)) throw exception(115, 'UNKNOWN_SETTING', `Unknown setting '${key}'`);
        if (engine.defaults.get(key) !== value) settings.set(key, value);
      }
    }

    const pool = engine.pool(database);
    const lease: Lease = { conn: await pool.acquire(settings), discard: false };
    let answer: Answer;
    try {
      await applySettings(pool, lease, settings);
      answer = await execute(lease, { queryParam, body, params, format });
    } catch (err) {
      // An engine error leaves the connection as it was; anything else (chdb closed,
      // aborted, ...) might not, so do not reuse the connection then.
      if (!isEngineError(err) && !(err instanceof ShimError)) lease.discard = true;
      throw err;
    } finally {
      pool.release(lease.conn, lease.discard);
    }

    const compressed = await compressFor(req, fields, answer.body);
    res.writeHead(200, {
      'Content-Type': contentTypeOf(answer.format),
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Server-Display-Name': SERVER_NAME,
      'X-ClickHouse-Timezone': engine.timezone,
      ...(answer.format ? { 'X-ClickHouse-Format': answer.format } : {}),
      'X-ClickHouse-Summary': JSON.stringify(summaryHeader(answer.summary)),
      ...(compressed.encoding ? { 'Content-Encoding': compressed.encoding } : {}),
      'Content-Length': compressed.body.length,
    });
    res.end(compressed.body);
  } catch (err) {
    if (!res.headersSent) sendException(res, queryId, toException(err, engine.version));
    else res.destroy();
  }
}

interface Lease {
  conn: Conn;
  /** Close the connection after this request instead of returning it to the pool. */
  discard: boolean;
}

interface EngineRequest {
  queryParam: string | undefined;
  body: Buffer;
  params: ReadonlyMap<string, string>;
  format: string;
}

async function execute(lease: Lease, request: EngineRequest): Promise<Answer> {
  const { conn } = lease;
  const { queryParam, body, params } = request;
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;

  // INSERT … FORMAT x in the `query` parameter, data in the body.
  if (queryParam !== undefined && INSERT_WITH_DATA.test(queryParam) && firstKeyword(queryParam) === 'INSERT') {
    const dataFormat = INSERT_WITH_DATA.exec(queryParam)![1]!;
    if (BINARY_FORMATS.test(dataFormat)) {
      throw exception(48, 'NOT_IMPLEMENTED', `Inserting in the binary format ${dataFormat} is not supported by the ClickHouse HTTP test server; use a text format such as JSONEachRow`, 501);
    }
    const simple = SIMPLE_INSERT.exec(queryParam);
    const columns = simple?.[2]?.split(',').map((c) => c.trim()).filter((c) => c !== '');
    if (simple && params.size === 0 && RAW_INSERT_FORMATS.has(simple[3] as RawInsertFormat) && (columns ?? []).every((c) => IDENTIFIER.test(c))) {
      const written = await conn.session.insert({
        table: simple[1]!,
        values: body,
        format: simple[3] as RawInsertFormat,
        ...(columns && columns.length > 0 ? { columns } : {}),
      });
      return {
        body: Buffer.alloc(0),
        summary: { read_rows: written.rowsWritten, read_bytes: written.bytesWritten, written_rows: written.rowsWritten, written_bytes: written.bytesWritten, elapsed_seconds: written.elapsed },
      };
    }
    if (body.length === 0) return { body, summary: emptySummary(elapsed()) };
    const result = await run(conn, `${queryParam}\n${body.toString('utf8')}`, params, request.format);
    return { body: asBuffer(result.bytes()), summary: resultSummary(result) };
  }

  const sql = queryParam !== undefined ? (body.length > 0 ? `${queryParam}\n${body.toString('utf8')}` : queryParam) : body.toString('utf8');
  if (sql.trim() === '') throw exception(62, 'SYNTAX_ERROR', 'Empty query', 400);
  const keyword = firstKeyword(sql);
  if (keyword !== 'INSERT' && hasSecondStatement(sql)) {
    throw exception(62, 'SYNTAX_ERROR', 'Syntax error (Multi-statements are not allowed): the request holds more than one statement', 400);
  }
  // SET and USE outlive the statement on an engine connection, but not a server's
  // stateless HTTP request: run them, then drop the connection rather than leak them.
  if (keyword === 'SET' || keyword === 'USE') lease.discard = true;
  const result = await run(conn, sql, params, request.format);
  return {
    body: asBuffer(result.bytes()),
    format: keyword === 'INSERT' ? undefined : outputFormat(sql, request.format),
    summary: resultSummary(result),
  };
}

function run(conn: Conn, sql: string, params: ReadonlyMap<string, string>, format: string): Promise<ChdbResult> {
  // chdb runs bound queries one at a time process-wide, so bind only when there is something to bind.
  if (params.size === 0) return conn.session.queryAsync(sql, { format });
  const types = placeholderTypes(sql);
  const bound: Record<string, string | null> = {};
  for (const [name, value] of params) bound[name] = bindValue(value, types.get(name));
  return conn.session.queryBindAsync(sql, bound, { format });
}

/**
 * Brings the leased connection's changed settings to `wanted`: sets what
 * differs and resets (`= DEFAULT`) what an earlier request changed. When the
 * reset part fails (e.g. an earlier request set `readonly`), the connection is
 * replaced by a fresh one and only `wanted` is applied; a failure then is the
 * request's own (an unknown setting, a bad value) and is answered as such.
 */
async function applySettings(pool: Pool, lease: Lease, wanted: ReadonlyMap<string, string>): Promise<void> {
  const set = (entries: Iterable<[string, string]>) => [...entries].map(([name, value]) => `${name} = ${quoteString(value)}`);
  const changes = set([...wanted].filter(([name, value]) => lease.conn.settings.get(name) !== value));
  const resets = [...lease.conn.settings.keys()].filter((name) => !wanted.has(name)).map((name) => `${name} = DEFAULT`);
  if (changes.length === 0 && resets.length === 0) return;
  try {
    await lease.conn.session.queryAsync(`SET ${[...changes, ...resets].join(', ')}`);
  } catch (err) {
    lease.discard = true; // its settings are now unknown
    if (resets.length === 0) throw err;
    lease.conn = await pool.replace(lease.conn);
    lease.discard = false;
    if (wanted.size > 0) {
      try {
        await lease.conn.session.queryAsync(`SET ${set(wanted).join(', ')}`);
      } catch (again) {
        lease.discard = true;
        throw again;
      }
    }
  }
  lease.conn.settings = new Map(wanted);
}

// ---------------------------------------------------------------------------
// Query parameters.

/**
 * Turns an HTTP `param_` value into what chdb should bind. A server parses the
 * value as ClickHouse "escaped" text of the placeholder's type. chdb re-escapes
 * a string before handing it to the engine (backslash and control characters;
 * not quotes), so passing the HTTP value through unchanged would double its
 * escapes. Instead, hand chdb the string whose re-escaped form the engine
 * parses to the same value:
 * - `\N` is NULL;
 * - scalar types (String, DateTime64, …): the value unescaped as a server does;
 * - Array / Map / Tuple: the value is a literal with quoted strings inside
 *   (`['it\'s']`); unescape inside the quotes and write quotes SQL-style
 *   (`['it''s']`), since chdb would double a backslash.
 */
function bindValue(value: string, type: string | undefined): string | null {
  if (value === '\\N') return null;
  return type !== undefined && isComposite(type) ? requoteComposite(value) : unescapeEscaped(value);
}

function isComposite(type: string): boolean {
  let t = type.trim();
  for (let m; (m = /^(?:Nullable|LowCardinality)\s*\((.*)\)$/is.exec(t)); ) t = m[1]!.trim();
  return /^(Array|Map|Tuple|Nested)\s*\(/i.test(t);
}

/** The `{name:Type}` placeholders of a statement. */
function placeholderTypes(sql: string): Map<string, string> {
  const types = new Map<string, string>();
  const opening = /\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:/g;
  for (let m; (m = opening.exec(sql)); ) {
    let depth = 0;
    let quote: string | null = null;
    let i = opening.lastIndex;
    for (; i < sql.length; i++) {
      const c = sql[i];
      if (quote) {
        if (c === '\\') i++;
        else if (c === quote) quote = null;
      } else if (c === "'" || c === '"' || c === '`') quote = c;
      else if (c === '(') depth++;
      else if (c === ')') depth--;
      else if (c === '}' && depth <= 0) break;
    }
    if (i < sql.length && !types.has(m[1]!)) types.set(m[1]!, sql.slice(opening.lastIndex, i).trim());
  }
  return types;
}

/** ClickHouse's `\` escape, as readEscapedString / parseComplexEscapeSequence decode it. */
function decodeEscape(text: string, at: number): { decoded: string; next: number } {
  const c = text[at + 1];
  if (c === undefined) return { decoded: '\\', next: at + 1 };
  if (c === 'x' && /^[0-9A-Fa-f]{2}$/.test(text.slice(at + 2, at + 4))) {
    return { decoded: String.fromCharCode(parseInt(text.slice(at + 2, at + 4), 16)), next: at + 4 };
  }
  if (c === 'N') return { decoded: '', next: at + 2 };
  const simple: Record<string, string> = { a: '\x07', b: '\b', e: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '0': '\0' };
  const decoded = simple[c] ?? c;
  const code = decoded.charCodeAt(0);
  const keepsBackslash = !'\\\'"`/=:'.includes(decoded) && code >= 0x20 && code !== 0x7f;
  return { decoded: keepsBackslash ? `\\${decoded}` : decoded, next: at + 2 };
}

function unescapeEscaped(text: string): string {
  if (!text.includes('\\')) return text;
  let out = '';
  for (let i = 0; i < text.length; ) {
    if (text[i] === '\\') {
      const { decoded, next } = decodeEscape(text, i);
      out += decoded;
      i = next;
    } else out += text[i++];
  }
  return out;
}

function requoteComposite(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (!inString) {
      if (c === "'") inString = true;
      out += c === '\t' || c === '\n' || c === '\r' ? ' ' : c;
      i++;
      continue;
    }
    if (c === '\\') {
      const { decoded, next } = decodeEscape(text, i);
      out += decoded.replace(/'/g, "''");
      i = next;
    } else if (c === "'" && text[i + 1] === "'") {
      out += "''";
      i += 2;
    } else {
      if (c === "'") inString = false;
      out += c;
      i++;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// SQL text helpers (lexical only; the engine does the real parsing).

/** Index after the comment starting at `i`, or -1 if none starts there. */
function skipComment(sql: string, i: number): number {
  if (sql.startsWith('--', i) || sql.startsWith('# ', i) || sql.startsWith('#!', i)) {
    const end = sql.indexOf('\n', i);
    return end < 0 ? sql.length : end + 1;
  }
  if (sql.startsWith('/*', i)) {
    let depth = 0;
    for (let j = i; j < sql.length; j++) {
      if (sql.startsWith('/*', j)) (depth++, j++);
      else if (sql.startsWith('*/', j) && --depth === 0) return j + 2;
      else if (sql.startsWith('*/', j)) j++;
    }
    return sql.length;
  }
  return -1;
}

function firstKeyword(sql: string): string {
  let i = 0;
  while (i < sql.length) {
    if (/\s|\(/.test(sql[i]!)) i++;
    else {
      const after = skipComment(sql, i);
      if (after < 0) break;
      i = after;
    }
  }
  return /^[A-Za-z]+/.exec(sql.slice(i))?.[0].toUpperCase() ?? '';
}

/** True if something other than whitespace or comments follows a top-level `;`. */
function hasSecondStatement(sql: string): boolean {
  let ended = false;
  for (let i = 0; i < sql.length; ) {
    const c = sql[i]!;
    const afterComment = skipComment(sql, i);
    if (afterComment >= 0) {
      i = afterComment;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (ended && c !== ';') return true;
    if (c === ';') ended = true;
    else if (c === "'" || c === '"' || c === '`') {
      for (i++; i < sql.length; i++) {
        if (sql[i] === '\\') i++;
        else if (sql[i] === c) {
          if (sql[i + 1] === c) i++;
          else break;
        }
      }
    }
    i++;
  }
  return false;
}

function outputFormat(sql: string, fallback: string): string {
  return /\bFORMAT\s+([A-Za-z0-9_]+)\s*;?\s*$/i.exec(sql)?.[1] ?? fallback;
}

const quoteString = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const quoteIdentifier = (name: string) => `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;

// ---------------------------------------------------------------------------
// HTTP plumbing.

const SERVER_NAME = `${hostname()} (chdb test server)`;

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function drain(req: IncomingMessage): Promise<void> {
  if (req.complete) return;
  try {
    for await (const _ of req) void _;
  } catch {
    /* the client went away; nothing to answer */
  }
}

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const brotliDecompress = promisify(zlib.brotliDecompress);
const gzip = promisify(zlib.gzip);
const deflate = promisify(zlib.deflate);
const brotliCompress = promisify(zlib.brotliCompress);

async function decompress(req: IncomingMessage, body: Buffer): Promise<Buffer> {
  const encoding = String(req.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity' || encoding === 'none' || body.length === 0) return body;
  try {
    if (encoding === 'gzip' || encoding === 'x-gzip') return await gunzip(body);
    if (encoding === 'deflate') return await inflate(body);
    if (encoding === 'br') return await brotliDecompress(body);
    const zstd = (zlib as unknown as { zstdDecompress?: (b: Buffer, cb: (e: Error | null, r: Buffer) => void) => void }).zstdDecompress;
    if (encoding === 'zstd' && zstd) return await promisify(zstd)(body);
  } catch (err) {
    throw exception(271, 'CANNOT_DECOMPRESS', `Cannot decompress the request body (Content-Encoding: ${encoding}): ${(err as Error).message}`, 400);
  }
  throw exception(89, 'UNKNOWN_COMPRESSION_METHOD', `Unknown Content-Encoding of the request body: ${encoding}`);
}

async function compressFor(req: IncomingMessage, fields: ReadonlyMap<string, string>, body: Buffer): Promise<{ body: Buffer; encoding?: string }> {
  if (fields.get('enable_http_compression') !== '1' || body.length === 0) return { body };
  const accepted = String(req.headers['accept-encoding'] ?? '').toLowerCase();
  if (/\bgzip\b/.test(accepted)) return { body: await gzip(body), encoding: 'gzip' };
  if (/\bdeflate\b/.test(accepted)) return { body: await deflate(body), encoding: 'deflate' };
  if (/\bbr\b/.test(accepted)) return { body: await brotliCompress(body), encoding: 'br' };
  return { body };
}

/** Named fields of a multipart/form-data body (`query`, `param_*`, settings). */
function parseMultipart(body: Buffer, contentType: string): Map<string, string> {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!boundary) throw exception(36, 'BAD_ARGUMENTS', 'multipart/form-data without a boundary', 400);
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const fields = new Map<string, string>();
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    let start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    if (body.subarray(start, start + 2).toString() === '\r\n') start += 2;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const part = body.subarray(start, next);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd < 0) throw exception(36, 'BAD_ARGUMENTS', 'Malformed multipart/form-data part', 400);
    const headers = part.subarray(0, headerEnd).toString('utf8');
    let content = part.subarray(headerEnd + 4);
    if (content.subarray(-2).toString() === '\r\n') content = content.subarray(0, -2);
    const disposition = /content-disposition:[^\r\n]*/i.exec(headers)?.[0] ?? '';
    if (/filename\*?=/i.test(disposition)) {
      throw exception(48, 'NOT_IMPLEMENTED', 'External data (multipart files) is not supported by the ClickHouse HTTP test server', 501);
    }
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1] ?? /\bname=([^;\s]+)/i.exec(disposition)?.[1];
    if (name) fields.set(name, content.toString('utf8'));
    at = next;
  }
  return fields;
}

function contentTypeOf(format: string | undefined): string {
  if (!format) return 'text/plain; charset=UTF-8';
  if (/^(TSV|TabSeparated)/i.test(format)) return 'text/tab-separated-values; charset=UTF-8';
  if (/^CSV/i.test(format)) return `text/csv; charset=UTF-8; header=${/WithNames/i.test(format) ? 'present' : 'absent'}`;
  if (/^(JSON|NDJSON)/i.test(format)) return 'application/json; charset=UTF-8';
  if (BINARY_FORMATS.test(format)) return 'application/octet-stream';
  return 'text/plain; charset=UTF-8';
}

function sendText(res: ServerResponse, status: number, text: string, queryId: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=UTF-8',
    'X-ClickHouse-Query-Id': queryId,
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const emptySummary = (elapsed: number): Summary => ({ read_rows: 0, read_bytes: 0, written_rows: 0, written_bytes: 0, elapsed_seconds: elapsed });
const resultSummary = (result: ChdbResult): Summary => ({
  read_rows: result.rowsRead,
  read_bytes: result.bytesRead,
  written_rows: 0,
  written_bytes: 0,
  elapsed_seconds: result.elapsed,
});
/** ClickHouse sends every number of X-ClickHouse-Summary as a string. */
const summaryHeader = (s: Summary) => ({
  read_rows: String(s.read_rows),
  read_bytes: String(s.read_bytes),
  written_rows: String(s.written_rows),
  written_bytes: String(s.written_bytes),
  total_rows_to_read: '0',
  result_rows: String(s.written_rows),
  result_bytes: String(s.written_bytes),
  elapsed_ns: String(Math.round((s.elapsed_seconds || 0) * 1e9)),
});

// ---------------------------------------------------------------------------
// Errors.

interface Exception {
  code: number;
  type: string;
  text: string;
  status?: number;
}

/** An error the shim raises itself, shaped like an engine error. */
class ShimError extends Error {
  constructor(
    readonly code: number,
    readonly type: string,
    message: string,
    readonly status?: number,
  ) {
    super(`Code: ${code}. DB::Exception: ${message}. (${type})`);
  }
}

const exception = (code: number, type: string, message: string, status?: number) => new ShimError(code, type, message, status);

const isEngineError = (err: unknown) => typeof (err as { clickhouseCode?: unknown })?.clickhouseCode === 'number';

function toException(err: unknown, version?: string): Exception {
  const e = err as { message?: unknown; clickhouseCode?: unknown; code?: unknown; type?: unknown; status?: unknown; name?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const fromMessage = /Code: (\d+)\. /.exec(message);
  const code =
    typeof e?.clickhouseCode === 'number' ? e.clickhouseCode
    : typeof e?.code === 'number' ? e.code
    : fromMessage ? Number(fromMessage[1])
    : e?.name === 'ChdbBindError' ? 457
    : 1001;
  const types = [...message.matchAll(/\(([A-Z][A-Z0-9_]*[A-Z0-9])\)/g)];
  const type = typeof e?.type === 'string' ? e.type : types.at(-1)?.[1] ?? (code === 457 ? 'BAD_QUERY_PARAMETER' : 'STD_EXCEPTION');
  let text = /^Code: \d+\. /.test(message) ? message : `Code: ${code}. DB::Exception: ${message.replace(/\.$/, '')}. (${type})`;
  if (version && !/\(version [^)]*\)\s*$/.test(text)) text += ` (version ${version})`;
  return { code, type, text, status: typeof e?.status === 'number' ? e.status : undefined };
}

/** HTTP status by error type, as ClickHouse's HTTP handler chooses it. */
const STATUS_BY_TYPE: Record<string, number> = {};
for (const type of [
  'BAD_ARGUMENTS', 'CANNOT_COMPILE_REGEXP', 'CANNOT_PARSE_TEXT', 'CANNOT_PARSE_ESCAPE_SEQUENCE', 'CANNOT_PARSE_QUOTED_STRING',
  'CANNOT_PARSE_DATE', 'CANNOT_PARSE_DATETIME', 'CANNOT_PARSE_NUMBER', 'CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING',
  'CANNOT_PARSE_IPV4', 'CANNOT_PARSE_IPV6', 'CANNOT_PARSE_INPUT_ASSERTION_FAILED', 'CANNOT_PARSE_UUID', 'DUPLICATE_COLUMN',
  'ILLEGAL_COLUMN', 'UNKNOWN_ELEMENT_IN_AST', 'UNKNOWN_TYPE_OF_AST_NODE', 'THERE_IS_NO_COLUMN', 'TOO_DEEP_AST', 'TOO_BIG_AST',
  'UNEXPECTED_AST_STRUCTURE', 'SYNTAX_ERROR', 'INCORRECT_DATA', 'TYPE_MISMATCH', 'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE',
  'INVALID_SESSION_TIMEOUT', 'HTTP_LENGTH_REQUIRED', 'BAD_QUERY_PARAMETER',
]) STATUS_BY_TYPE[type] = 400;
for (const type of [
  'UNKNOWN_TABLE', 'UNKNOWN_FUNCTION', 'UNKNOWN_IDENTIFIER', 'UNKNOWN_TYPE', 'UNKNOWN_STORAGE', 'UNKNOWN_DATABASE',
  'UNKNOWN_SETTING', 'UNKNOWN_DIRECTION_OF_SORTING', 'UNKNOWN_AGGREGATE_FUNCTION', 'UNKNOWN_FORMAT',
  'UNKNOWN_DATABASE_ENGINE', 'UNKNOWN_TYPE_OF_QUERY', 'UNKNOWN_ROLE',
]) STATUS_BY_TYPE[type] = 404;
Object.assign(STATUS_BY_TYPE, {
  REQUIRED_PASSWORD: 401, UNKNOWN_USER: 403, WRONG_PASSWORD: 403, AUTHENTICATION_FAILED: 403, ACCESS_DENIED: 403,
  QUERY_IS_TOO_LARGE: 413, NOT_IMPLEMENTED: 501, SOCKET_TIMEOUT: 503, CANNOT_OPEN_FILE: 503, TIMEOUT_EXCEEDED: 408,
});

function sendException(res: ServerResponse, queryId: string, exception: Exception): void {
  const body = `${exception.text}\n`;
  res.writeHead(exception.status ?? STATUS_BY_TYPE[exception.type] ?? 500, {
    'Content-Type': 'text/plain; charset=UTF-8',
    'X-ClickHouse-Query-Id': queryId,
    'X-ClickHouse-Server-Display-Name': SERVER_NAME,
    'X-ClickHouse-Exception-Code': String(exception.code),
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

// ---------------------------------------------------------------------------
// Run on its own: `tsx tests/support/clickhouse-http.ts --data-dir data/clickhouse --port 8123`,
// then point Qingjian processes at it with CLICKHOUSE_URL=http://127.0.0.1:8123.

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: { 'data-dir': { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, connections: { type: 'string' } },
  });
  const dataDir = values['data-dir'];
  if (!dataDir) {
    process.stderr.write('usage: clickhouse-http --data-dir DIR [--port 8123] [--host 127.0.0.1] [--connections 4]\n');
    process.exit(2);
  }
  const shim = await startClickHouseHttp({
    dataDir,
    port: Number(values.port ?? 8123),
    ...(values.host ? { host: values.host } : {}),
    ...(values.connections ? { connections: Number(values.connections) } : {}),
  });
  process.stdout.write(`ClickHouse HTTP test server (chdb) on ${shim.url}, data in ${dataDir}\n`);
  const stop = () => void shim.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
