import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { callerOf } from '../auth/index.js';

/**
 * What a request body may cost before a route parses it. Platforms send large
 * batches to the bulk routes (INGEST_MAX_BYTES); people's actions — an ack, a
 * silence, a ticket note, a token — fit in PEOPLE_MAX_BYTES. Every body must
 * say what it is (Content-Type) and arrive within REQUEST_BODY_TIMEOUT_MS,
 * else the connection is answered and closed instead of being held open by a
 * trickle. It runs after authentication, which answers from the headers alone:
 * a caller without a valid token never gets to send a body at all, and a body
 * sent where no route needs a token (a public or unknown path) is not read.
 */
export interface BodyBounds {
  /** Body bytes on the bulk routes (POST /v1/events, PUT /v1/enterprises, PUT /v1/agencies, PUT /v1/officers). */
  bulkMaxBytes: number;
  /** Body bytes on every other route. */
  maxBytes: number;
  timeoutMs: number;
}

/** People's bodies: the largest, a ticket note of 2,000 characters, is about 6 KB of UTF-8. */
export const PEOPLE_MAX_BYTES = 64 * 1024;

const BULK_ROUTES = new Set(['POST /v1/events', 'PUT /v1/enterprises', 'PUT /v1/agencies', 'PUT /v1/officers']);

/** Whether the request says it carries a body (a length above 0, or chunks). */
export function declaresBody(c: Context): boolean {
  const length = c.req.header('content-length');
  return c.req.header('transfer-encoding') !== undefined || (length !== undefined && length !== '0');
}

const closing = (c: Context) => c.header('Connection', 'close');

/** The Node request under Hono's (from @hono/node-server), whose body this middleware reads itself. */
export const incomingOf = (c: Context): IncomingMessage | undefined => (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;

export function boundedBody(bounds: BodyBounds): MiddlewareHandler {
  return async (c, next) => {
    if (!declaresBody(c) || c.req.method === 'GET' || c.req.method === 'HEAD' || !callerOf(c)) return next();
    const bulk = BULK_ROUTES.has(`${c.req.method} ${c.req.path}`);
    const maxBytes = bulk ? bounds.bulkMaxBytes : bounds.maxBytes;
    const tooLarge = () => {
      closing(c);
      return c.json({
        error: 'body_too_large',
        message: `request body exceeds ${maxBytes} bytes (${bulk ? 'INGEST_MAX_BYTES' : "the limit of people's routes"})`,
      }, 413);
    };
    if (!c.req.header('content-type')) {
      closing(c);
      return c.json({ error: 'unsupported_media_type', message: 'a request body needs a Content-Type: application/json' }, 415);
    }
    const declared = Number(c.req.header('content-length'));
    if (declared > maxBytes) return tooLarge();
    const incoming = incomingOf(c);
    const read = incoming ? await readIncoming(incoming, maxBytes, bounds.timeoutMs) : await readWithin(c.req.raw.body!, maxBytes, bounds.timeoutMs);
    if (read === 'too_large') return tooLarge();
    if (read === 'timed_out') {
      closing(c);
      return c.json({ error: 'request_timeout', message: `the request body did not arrive within ${bounds.timeoutMs / 1000} s` }, 408);
    }
    // Routes read the body with c.req.text() as before, from Hono's body cache now (decoded as fetch decodes it).
    // Building a second Request around the bytes instead cost a quarter of a single-event request's time.
    // (Hono keeps the promise of each body form there; its type names the settled values.)
    (c.req.bodyCache as Record<string, Promise<unknown>>).text = Promise.resolve(UTF8.decode(read));
    return next();
  };
}

const UTF8 = new TextDecoder();

/** The whole body from Node's request, unless it grows past maxBytes or has not ended within timeoutMs. */
function readIncoming(incoming: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Buffer | 'too_large' | 'timed_out'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (finish: () => void) => {
      clearTimeout(timer);
      incoming.off('data', onData).off('end', onEnd).off('error', onError);
      finish();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxBytes) settle(() => resolve('too_large'));
      else chunks.push(chunk);
    };
    const onEnd = () => settle(() => resolve(Buffer.concat(chunks, size)));
    const onError = (err: Error) => settle(() => reject(err));
    const timer = setTimeout(() => settle(() => resolve('timed_out')), timeoutMs);
    incoming.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

/** The same from a web stream, where there is no Node request (an app called in-process). */
async function readWithin(body: ReadableStream<Uint8Array>, maxBytes: number, timeoutMs: number): Promise<Buffer<ArrayBuffer> | 'too_large' | 'timed_out'> {
  const reader = body.getReader();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timed_out'>((resolve) => (timer = setTimeout(() => resolve('timed_out'), timeoutMs)));
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      // A read still pending when time is up settles once the connection closes; the race has handled it.
      const next = await Promise.race([reader.read(), timeout]);
      if (next === 'timed_out') return next;
      if (next.done) return Buffer.concat(chunks, size);
      size += next.value.byteLength;
      if (size > maxBytes) return 'too_large';
      chunks.push(next.value);
    }
  } finally {
    clearTimeout(timer);
  }
}
