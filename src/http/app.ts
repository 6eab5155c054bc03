import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from '../log.js';
import { authenticate, type TokenStore } from '../auth/index.js';
import { httpMetrics, type Metrics } from '../metrics/index.js';

/**
 * The HTTP shell every route group mounts into: body size limit, JSON errors
 * for everything (never a stack trace), request logs.
 */
export interface HttpAppOptions {
  log: Logger;
  metrics: Metrics;
  tokens: TokenStore;
  /** GET /metrics without a token (Prometheus on a private network). */
  metricsPublic: boolean;
  maxBodyBytes: number;
  routes: Hono[];
}

export function createHttpApp(options: HttpAppOptions): Hono {
  const { log } = options;
  const app = new Hono();

  app.use('*', httpMetrics(options.metrics));
  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    log.debug({ method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) }, 'request');
  });
  // Before the body limit: a caller without a token is turned away before its body is read.
  app.use('*', authenticate({ tokens: options.tokens, metricsPublic: options.metricsPublic }));
  app.use('/v1/*', bodyLimit({
    maxSize: options.maxBodyBytes,
    onError: (c) => c.json({
      error: 'body_too_large',
      message: `request body exceeds ${options.maxBodyBytes} bytes (INGEST_MAX_BYTES)`,
    }, 413),
  }));

  for (const routes of options.routes) app.route('/', routes);

  app.notFound((c) => c.json({ error: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => {
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

// Redis refusing or dropping the connection, or ClickHouse not answering: the
// client should retry, so say 503 rather than 500.
function isUnavailable(err: Error): boolean {
  const text = `${err.name} ${err.message}`;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Connection is closed|Stream isn't writeable|enableOfflineQueue|MaxRetriesPerRequest|socket hang up|LOADING/i.test(text);
}
