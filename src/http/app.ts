import { OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from '../log.js';
import { authenticate, rateLimit, type RateLimiter, type TokenStore } from '../auth/index.js';
import { httpMetrics, type Metrics } from '../metrics/index.js';
import { drainUnreadBody } from './drain.js';
import { serveOpenApi } from './openapi.js';
import { boundedBody, PEOPLE_MAX_BYTES } from './request-body.js';

/**
 * The HTTP shell every route group mounts into: authentication from the
 * headers, then bounds on the body (type, size, time), JSON errors for
 * everything (never a stack trace), request logs.
 */
export interface HttpAppOptions {
  log: Logger;
  metrics: Metrics;
  tokens: TokenStore;
  rateLimiter: RateLimiter;
  /** GET /metrics without a token (Prometheus on a private network). */
  metricsPublic: boolean;
  /** Body bytes on the bulk routes (INGEST_MAX_BYTES); people's routes take PEOPLE_MAX_BYTES. */
  maxBodyBytes: number;
  /** How long a request body may take to arrive (REQUEST_BODY_TIMEOUT_MS). */
  bodyTimeoutMs: number;
  /** Items in one batch (INGEST_MAX_EVENTS), for the OpenAPI document. */
  maxItems: number;
  /** Route groups (src/http/route.ts); /openapi.json documents them all. */
  routes: OpenAPIHono[];
}

export function createHttpApp(options: HttpAppOptions): OpenAPIHono {
  const { log } = options;
  const app = new OpenAPIHono();

  app.use('*', httpMetrics(options.metrics));
  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    log.debug({ method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) }, 'request');
  });
  app.use('*', drainUnreadBody(options.maxBodyBytes, options.bodyTimeoutMs));
  // Before the body is read: a caller without a token is answered from the headers, and its body never read.
  app.use('*', authenticate({ tokens: options.tokens, metricsPublic: options.metricsPublic }));
  app.use('*', rateLimit(options.rateLimiter, log));
  app.use('*', boundedBody({ bulkMaxBytes: options.maxBodyBytes, maxBytes: PEOPLE_MAX_BYTES, timeoutMs: options.bodyTimeoutMs }));

  for (const routes of options.routes) app.route('/', routes);
  serveOpenApi(app, { maxItems: options.maxItems, maxBytes: options.maxBodyBytes });

  app.notFound((c) => c.json({ error: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => {
    // Raised by the validation of a declared body, after our own checks: a Content-Type ours accepts and Hono does not.
    if (err instanceof HTTPException && err.status === 415) {
      return c.json({ error: 'unsupported_media_type', message: 'Content-Type must be application/json' }, 415);
    }
    if (clientWentAway(err, c.req.raw)) {
      // E.g. a body cut short: nobody is there to read an answer, and it is not the server's failure.
      log.debug({ err: err.message, path: c.req.path }, 'client went away mid-request');
      return c.json({ error: 'client_closed_request', message: 'the client closed the connection before the request was complete' }, 400);
    }
    if (isUnavailable(err)) {
      log.warn({ err: err.message, path: c.req.path }, 'dependency unavailable');
      c.header('Retry-After', '5');
      return c.json({ error: 'unavailable', message: 'a backing service is unavailable; nothing from this request was accepted, retry later' }, 503);
    }
    log.error({ err: { message: err.message, stack: err.stack }, path: c.req.path }, 'unhandled error');
    return c.json({ error: 'internal', message: 'internal error; it has been logged' }, 500);
  });
  return app;
}

// The client's connection closed before its request was complete (Node's "aborted" reset of the request body).
function clientWentAway(err: Error, request: Request): boolean {
  return request.signal.aborted || ((err as NodeJS.ErrnoException).code === 'ECONNRESET' && err.message === 'aborted');
}

// Redis refusing or dropping the connection, or ClickHouse not answering: the
// client should retry, so say 503 rather than 500. Redis at its maxmemory
// (noeviction) refuses writes with "OOM command not allowed …"; a refused
// script has written nothing (Redis denies it before its first write), so
// nothing was accepted and a retry is safe: the same 503, shedding load.
function isUnavailable(err: Error): boolean {
  const text = `${err.name} ${err.message}`;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Connection is closed|Stream isn't writeable|enableOfflineQueue|MaxRetriesPerRequest|socket hang up|LOADING|OOM command not allowed/i.test(text);
}
