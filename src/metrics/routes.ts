import { createServer, type Server } from 'node:http';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { defineRoute, routeGroup } from '../http/route.js';
import type { Registry } from 'prom-client';

/** `GET /metrics` in the Prometheus text format. */
export function metricsRoutes(registry: Registry): OpenAPIHono {
  return routeGroup().openapi(metrics, async (c) => c.body(await registry.metrics(), 200, { 'content-type': registry.contentType }));
}

// Without a token when METRICS_PUBLIC is set (Prometheus on a private network); else an admin's.
const metrics = defineRoute({
  method: 'get', path: '/metrics', access: 'metrics', tags: ['operations'],
  summary: 'Prometheus metrics of this process (text exposition format)',
  responses: { 200: { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } } },
});

/**
 * A worker-only process has no API: it answers `GET /metrics` on a port of
 * its own (METRICS_PORT) so Prometheus can scrape every replica.
 */
export function serveMetrics(registry: Registry, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || new URL(req.url ?? '/', 'http://localhost').pathname !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the metrics are at GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
