import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Metrics } from './registry.js';

/**
 * Counts and times every request by the route pattern that answered it
 * (`/v1/alerts/:id`, never the id itself); requests no route matched share
 * one label, so probing random paths cannot grow the series.
 */
export function httpMetrics(metrics: Metrics): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const labels = { method: c.req.method, route: answeringRoute(c) };
    metrics.httpRequests.inc({ ...labels, status: String(c.res.status) });
    metrics.httpDuration.observe(labels, (performance.now() - started) / 1000);
  };
}

// Middleware is registered for every method ('ALL'); the handler that answered is the last route with a method.
function answeringRoute(c: Context): string {
  const handler = matchedRoutes(c).filter((route) => route.method !== 'ALL').at(-1);
  return handler?.path ?? 'unmatched';
}
