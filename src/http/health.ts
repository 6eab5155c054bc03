import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { defineRoute, json, routeGroup } from './route.js';

export type Check = () => Promise<void>;

const healthz = defineRoute({
  method: 'get', path: '/healthz', access: 'public', tags: ['operations'],
  summary: 'The process is up', responses: { 200: { description: 'Up' } },
});

const readyz = defineRoute({
  method: 'get', path: '/readyz', access: 'public', tags: ['operations'],
  summary: 'Redis and ClickHouse reachable, migrations applied',
  responses: { 200: { description: 'Ready' }, 503: { description: 'Not ready; names the failing checks' } },
});

const version = defineRoute({
  method: 'get', path: '/v1/version', access: 'public', tags: ['operations'],
  summary: 'The version of Qingjian answering (package.json), e.g. to check a rollout',
  responses: { 200: json('The version', z.object({ version: z.string() }).meta({ id: 'Version' })) },
});

/**
 * /healthz: the process answers. /readyz: every dependency answers (503 naming the failing ones).
 * /v1/version: which release answers.
 */
export function healthRoutes(checks: Record<string, Check>, release: { version: string }): OpenAPIHono {
  const app = routeGroup();
  app.openapi(healthz, (c) => c.json({ status: 'ok' }));
  app.openapi(version, (c) => c.json({ version: release.version }));
  app.openapi(readyz, async (c) => {
    const results = await Promise.all(Object.entries(checks).map(async ([name, check]) => {
      try {
        await withTimeout(check(), 2_000);
        return [name, 'ok'] as const;
      } catch (err) {
        return [name, `failing: ${(err as Error).message}`] as const;
      }
    }));
    const ready = results.every(([, state]) => state === 'ok');
    return c.json({ status: ready ? 'ready' : 'not_ready', checks: Object.fromEntries(results) }, ready ? 200 : 503);
  });
  return app;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
