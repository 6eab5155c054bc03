import { Hono } from 'hono';

export type Check = () => Promise<void>;

/** /healthz: the process answers. /readyz: every dependency answers (503 naming the failing ones). */
export function healthRoutes(checks: Record<string, Check>): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
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
