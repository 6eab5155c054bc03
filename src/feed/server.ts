import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { bearerToken, can, type RateLimiter, type TokenStore } from '../auth/index.js';
import { rateLimitHeaders, type Verdict } from '../auth/rate-limit.js';
import { TOKEN_REFRESH_MS } from '../auth/tokens.js';
import type { Logger } from '../log.js';
import type { Journal, StoredEntry } from './journal.js';
import { compareSeq, matches, PROTOCOL_VERSION, Subscribe, type FeedFilters } from './protocol.js';

/**
 * The live feed over WebSocket. Every API process follows the journal and
 * fans each entry out to its own sockets: the entry's text is encoded once and
 * the same bytes go to every matching client, each socket corked while a
 * batch goes out so that its messages leave in one write. A subscribe replays the
 * journal after the client's `after`, holding live entries back meanwhile, so
 * the client sees each entry once and in order whatever the interleaving.
 */
export const FEED_PATH = '/v1/alerts/stream';
/** The subprotocol the feed speaks (browsers offer it beside `bearer.<token>`). */
export const SUBPROTOCOL = 'qingjian.v1';
/**
 * Close codes a client can act on: 4001 the token was revoked or expired (reconnecting with it is refused
 * with 401), 4008 slow consumer, 1001 shutdown.
 */
export const CLOSE = { tokenRevoked: 4001, slowConsumer: 4008, shutdown: 1001 } as const;
/**
 * How often open connections' tokens are checked again. Tokens are re-read at most every TOKEN_REFRESH_MS,
 * so a revocation or expiry closes a connection within about that interval (a revocation made through this
 * process, which drops its cache, within this one).
 */
const TOKEN_CHECK_MS = TOKEN_REFRESH_MS / 2;

export interface FeedOptions {
  journal: Journal;
  tokens: TokenStore;
  /** Upgrades are limited per client address and per token; over the limit the handshake gets 429 and Retry-After. */
  rateLimiter: RateLimiter;
  log: Logger;
  maxPayloadBytes: number;
  /** A client with more than this waiting to be sent is closed rather than buffered for. */
  maxBufferBytes: number;
  pingMs: number;
}

export interface FeedServer {
  stats(): { clients: number; sent: number; dropped: number };
  close(): Promise<void>;
}

interface Client {
  ws: WebSocket;
  /** The connection under ws, corked while a batch goes out. */
  socket: Duplex;
  /** The bearer token the connection was opened with, checked again every TOKEN_CHECK_MS. */
  token: string;
  /** Division-code prefix of the client's token: entries outside it are never sent, whatever the filters. */
  jurisdiction: string;
  filters: FeedFilters | null;
  /** The journal position this client has been brought up to. */
  position: string;
  /** Live entries held back while a replay runs (null when live). */
  held: StoredEntry[] | null;
  /** Bumped by every subscribe, so a superseded replay stops. */
  generation: number;
  alive: boolean;
  /** Settles once hello is sent: messages wait for it, so hello is always first. */
  greeted: Promise<void>;
}

/** Entries per replay page and per live read: what one client can be sent beyond the buffer limit. */
const REPLAY_PAGE = 200;
/** Live entries held for one replaying client before it counts as too slow. */
const MAX_HELD = 20_000;
/**
 * How long a closed client has to read its backlog and the close frame (with the reason) before its
 * socket is destroyed. Its memory is bounded meanwhile: nothing more is queued for it.
 */
const TERMINATE_AFTER_CLOSE_MS = 10_000;

export function attachFeed(server: Server, options: FeedOptions): FeedServer {
  const { journal, log } = options;
  const clients = new Set<Client>();
  const counts = { sent: 0, dropped: 0 };
  const wss = new WebSocketServer({
    noServer: true, perMessageDeflate: false, maxPayload: options.maxPayloadBytes, clientTracking: false,
    // Never echo the token back: the only protocol the server speaks is the feed's.
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== FEED_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    void authorized(req).then((allowed) => {
      if (typeof allowed === 'string') {
        socket.end(`HTTP/1.1 ${allowed}\r\nConnection: close\r\nContent-Length: 0\r\nWWW-Authenticate: Bearer realm="qingjian"\r\n\r\n`);
      } else if ('limited' in allowed) {
        const headers = Object.entries(rateLimitHeaders(allowed.limited)).map(([name, value]) => `${name}: ${value}\r\n`).join('');
        socket.end(`HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: 0\r\n${headers}\r\n`);
      } else {
        wss.handleUpgrade(req, socket, head, (ws) => connected(ws, socket, allowed.token, allowed.jurisdiction));
      }
    }, (err: Error) => {
      log.warn({ err: err.message }, 'feed: could not check a token');
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
  };

  // Browsers cannot set headers on a WebSocket: they send the token as a second subprotocol, `bearer.<token>`.
  async function authorized(req: IncomingMessage): Promise<{ token: string; jurisdiction: string } | { limited: Verdict } | string> {
    // The address first, so floods of made-up tokens are limited before they cost a token lookup.
    const byAddress = await connectVerdict('ip', req.socket.remoteAddress ?? '');
    if (byAddress) return { limited: byAddress };
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const token = bearerToken(req.headers.authorization) ?? offered.find((p) => p.startsWith('bearer.'))?.slice('bearer.'.length) ?? null;
    const principal = token ? await options.tokens.authenticate(token) : null;
    if (!token || !principal) return '401 Unauthorized';
    if (!can(principal.role, 'feed:read')) return '403 Forbidden';
    const byToken = await connectVerdict('token', principal.id);
    return byToken ? { limited: byToken } : { token, jurisdiction: principal.jurisdiction };
  }

  // The refusing verdict, or null to go on; Redis failing to count lets the upgrade through, as for requests.
  async function connectVerdict(by: 'ip' | 'token', key: string): Promise<Verdict | null> {
    const verdict = await options.rateLimiter.takeConnect(by, key).catch((err: Error) => {
      log.debug({ err: err.message }, 'feed upgrade not counted');
      return null;
    });
    return verdict && !verdict.allowed ? verdict : null;
  }
  server.on('upgrade', onUpgrade);

  const follower = journal.follow(broadcast, (err) => log.warn({ err: err.message }, 'feed journal read failed; retrying'));
  const heartbeat = setInterval(() => {
    for (const client of clients) {
      if (!client.alive) {
        log.debug('feed client missed a heartbeat; terminated');
        client.ws.terminate();
        continue;
      }
      client.alive = false;
      client.ws.ping();
    }
  }, options.pingMs);

  // Revocation bites on open connections too: each distinct token is checked once per round.
  let checking = false;
  const tokenCheck = setInterval(() => {
    if (checking || clients.size === 0) return;
    checking = true;
    void recheckTokens().catch((err: Error) => log.warn({ err: err.message }, 'feed: could not check open connections\' tokens'))
      .finally(() => (checking = false));
  }, TOKEN_CHECK_MS);

  async function recheckTokens() {
    const byToken = new Map<string, Client[]>();
    for (const client of clients) byToken.set(client.token, [...(byToken.get(client.token) ?? []), client]);
    for (const [token, holders] of byToken) {
      if (await options.tokens.authenticate(token)) continue;
      for (const client of holders) {
        clients.delete(client);
        client.held = null;
        client.ws.close(CLOSE.tokenRevoked, 'token revoked or expired');
        setTimeout(() => client.ws.terminate(), TERMINATE_AFTER_CLOSE_MS).unref();
      }
      log.info({ connections: holders.length }, 'feed: closed the connections of a revoked or expired token');
    }
  }

  function connected(ws: WebSocket, socket: Duplex, token: string, jurisdiction: string) {
    const client: Client = { ws, socket, token, jurisdiction, filters: null, position: '0-0', held: null, generation: 0, alive: true, greeted: Promise.resolve() };
    clients.add(client);
    ws.on('pong', () => (client.alive = true));
    ws.on('message', (data, isBinary) => void onMessage(client, data, isBinary));
    ws.on('close', () => clients.delete(client));
    ws.on('error', (err) => log.debug({ err: err.message }, 'feed socket error'));
    client.greeted = journal.state().then(
      (state) => send(client, JSON.stringify({ v: PROTOCOL_VERSION, type: 'hello', latest_seq: state.latest })),
      (err: Error) => log.warn({ err: err.message }, 'feed hello failed'),
    );
  }

  async function onMessage(client: Client, data: RawData, isBinary: boolean) {
    await client.greeted;
    const problem = (field: string, message: string) =>
      send(client, JSON.stringify({ v: PROTOCOL_VERSION, type: 'error', field, message }));
    if (isBinary) return problem('', 'messages must be JSON text');
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString());
    } catch {
      return problem('', 'message is not JSON');
    }
    const request = Subscribe.safeParse(parsed);
    if (!request.success) {
      const issue = request.error.issues[0]!;
      const field = issue.code === 'unrecognized_keys' ? [...issue.path, ...issue.keys].join('.') : issue.path.join('.');
      return problem(field, issue.code === 'unrecognized_keys' ? 'is not a known field' : issue.message);
    }
    try {
      await subscribe(client, request.data);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'feed replay failed');
      problem('', 'the feed is unavailable; reconnect and resubscribe');
    }
  }

  async function subscribe(client: Client, request: Subscribe) {
    const generation = ++client.generation;
    client.filters = request.filters;
    client.held = [];
    send(client, JSON.stringify({ v: PROTOCOL_VERSION, type: 'subscribed', filters: request.filters, after: request.after }));

    const state = await journal.state();
    let position = request.after ?? state.latest;
    // Conservative: a client whose position is older than everything kept may have missed trimmed entries.
    if (request.after !== null && state.trimmed && state.oldest !== null && compareSeq(request.after, state.oldest) < 0) {
      send(client, JSON.stringify({ v: PROTOCOL_VERSION, type: 'reset', reason: 'history_trimmed', oldest_seq: state.oldest }));
    } else if (request.after !== null && compareSeq(request.after, state.latest) > 0) {
      send(client, JSON.stringify({ v: PROTOCOL_VERSION, type: 'reset', reason: 'unknown_seq', oldest_seq: state.oldest }));
      position = state.latest;
    }
    client.position = position;
    for (;;) {
      const page = await journal.range(client.position, REPLAY_PAGE);
      if (generation !== client.generation || !keepingUp(client)) return;
      for (const entry of page) deliver(client, entry, frame(entry));
      if (page.length < REPLAY_PAGE) break;
    }
    // Synchronous from here: nothing can arrive between draining the held entries and going live.
    const held = client.held ?? [];
    client.held = null;
    for (const entry of held) deliver(client, entry, frame(entry));
    send(client, JSON.stringify({ v: PROTOCOL_VERSION, type: 'caught_up', seq: client.position }));
  }

  // A batch goes out in one synchronous pass, so no socket can drain during it: a client is judged slow
  // by what it still has not taken from earlier batches, and memory per client stays below the limit plus one batch.
  function broadcast(entries: StoredEntry[]) {
    for (const client of clients) if (client.filters && !client.held) keepingUp(client);
    // Each live socket is corked for the batch: a client sent several of its entries gets them in one write, not
    // one system call each (bench:feed, 20 events a request: the service's JS thread 51–53% → 33–36% of a core).
    const corked = entries.length > 1 ? [...clients].filter((c) => c.filters && !c.held && c.ws.readyState === WebSocket.OPEN) : [];
    for (const client of corked) client.socket.cork();
    try {
      fanOut(entries);
    } finally {
      for (const client of corked) client.socket.uncork();
    }
  }

  function fanOut(entries: StoredEntry[]) {
    for (const entry of entries) {
      // Encoded once: every client's socket is handed the same bytes.
      let encoded: Buffer | null = null;
      for (const client of clients) {
        if (!client.filters) continue;
        if (client.held) {
          if (client.held.push(entry) > MAX_HELD) dropSlow(client, `more than ${MAX_HELD} messages arrived during the replay`);
          continue;
        }
        deliver(client, entry, (encoded ??= Buffer.from(frame(entry))));
      }
    }
  }

  // Advances the client's position past the entry, sending it if it passes the filters.
  function deliver(client: Client, entry: StoredEntry, text: string | Buffer) {
    if (compareSeq(entry.seq, client.position) <= 0) return;
    client.position = entry.seq;
    if (entry.region.startsWith(client.jurisdiction)
      && matches(client.filters!, { rule_id: entry.rule, severity: entry.severity as never, region: entry.region, agency_id: entry.agency })) {
      send(client, text);
    }
  }

  function send(client: Client, text: string | Buffer) {
    if (client.ws.readyState !== WebSocket.OPEN) return;
    client.ws.send(text, { binary: false });
    counts.sent++;
  }

  function keepingUp(client: Client): boolean {
    if (client.ws.readyState !== WebSocket.OPEN) return false;
    if (client.ws.bufferedAmount <= options.maxBufferBytes) return true;
    dropSlow(client, `more than ${options.maxBufferBytes} bytes waiting to be sent`);
    return false;
  }

  // A client that cannot keep up is closed, never buffered for: its memory would grow and its
  // writes would slow everyone's. The close frame queues behind its backlog, so terminate if it never drains.
  function dropSlow(client: Client, why: string) {
    if (client.ws.readyState !== WebSocket.OPEN) return;
    counts.dropped++;
    clients.delete(client);
    client.held = null;
    log.warn({ why }, 'feed client too slow; closed');
    client.ws.close(CLOSE.slowConsumer, `slow consumer: ${why}`.slice(0, 120));
    setTimeout(() => client.ws.terminate(), TERMINATE_AFTER_CLOSE_MS).unref();
  }

  return {
    stats: () => ({ clients: clients.size, ...counts }),
    async close() {
      server.off('upgrade', onUpgrade);
      clearInterval(heartbeat);
      clearInterval(tokenCheck);
      follower.stop();
      for (const client of clients) {
        client.ws.close(CLOSE.shutdown, 'server shutting down');
        setTimeout(() => client.ws.terminate(), TERMINATE_AFTER_CLOSE_MS).unref();
      }
      clients.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** The stored payload with its seq spliced in front: one string per entry, whoever receives it. */
const frame = (entry: StoredEntry) => `{"seq":"${entry.seq}",${entry.payload.slice(1)}`;
