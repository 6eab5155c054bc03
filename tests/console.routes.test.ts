import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONSOLE_DIR, consoleRoutes } from '../src/console/routes.js';

// The console's static files: no service needed, the routes are a plain Hono app.
const app = consoleRoutes();

describe('console routes', () => {
  it('serves the page at / with a restrictive security policy', async () => {
    const res = await app.request('http://localhost:8080/', { headers: { host: 'localhost:8080' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    // 'self' covers the feed's ws:/wss: on this host (CSP Level 3); no host is named, none copied from the request.
    expect(csp).toContain("connect-src 'self';");
    expect(csp).not.toContain('localhost');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    expect(html).toContain('<html lang="zh-CN">');
    // No inline script or style, nothing from another origin.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('serves assets under /console/ with their content types', async () => {
    for (const [path, type] of [
      ['/console/console.css', 'text/css; charset=utf-8'],
      ['/console/js/app.js', 'text/javascript; charset=utf-8'],
      ['/console/js/feed.js', 'text/javascript; charset=utf-8'],
      ['/console/favicon.svg', 'image/svg+xml'],
    ] as const) {
      const res = await app.request(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toBe(type);
      expect(res.headers.get('etag'), path).toMatch(/^"[\w-]{22}"$/);
    }
  });

  it('serves Apache ECharts from the installed package, and nothing else from node_modules', async () => {
    const res = await app.request('/console/vendor/echarts.esm.min.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('etag')).toMatch(/^"[\w-]{22}"$/);
    const text = await res.text();
    expect(text).toContain('Apache Software Foundation');
    expect(text).toMatch(/export\s*\{/);
    for (const path of ['/console/vendor/echarts.min.js', '/console/vendor/', '/console/vendor/../../package.json']) {
      expect((await app.request(path)).status, path).toBe(404);
    }
  });

  it('answers 304 to a matching If-None-Match, and HEAD without a body', async () => {
    const first = await app.request('/console/js/app.js');
    const etag = first.headers.get('etag')!;
    const again = await app.request('/console/js/app.js', { headers: { 'if-none-match': `W/${etag}` } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const head = await app.request('/console/js/app.js', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(first.headers.get('content-length'));
  });

  it('serves only files in its directory', async () => {
    for (const path of ['/console/../routes.ts', '/console/%2e%2e/routes.ts', '/console/..%2froutes.ts', '/console/js', '/console/nope.js', '/console/']) {
      const res = await app.request(path);
      expect(res.status, path).toBe(404);
    }
  });

  it('finds its files from the package root, and says so when they are missing', async () => {
    expect(CONSOLE_DIR.replaceAll('\\', '/')).toMatch(/\/src\/console\/public$/);
    const missing = consoleRoutes({ dir: join(tmpdir(), 'qingjian-no-such-console') });
    const res = await missing.request('/');
    expect(res.status).toBe(404);
    expect((await res.json()).message).toContain('missing');
  });

  const tmp = mkdtempSync(join(tmpdir(), 'qingjian-console-files-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  it('skips hidden files and unknown types', async () => {
    mkdirSync(join(tmp, 'js'));
    writeFileSync(join(tmp, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(tmp, '.env'), 'SECRET=1');
    writeFileSync(join(tmp, 'notes.txt'), 'x');
    writeFileSync(join(tmp, 'js', 'a.js'), 'export {}');
    const routes = consoleRoutes({ dir: tmp });
    expect((await routes.request('/')).status).toBe(200);
    expect((await routes.request('/console/js/a.js')).status).toBe(200);
    expect((await routes.request('/console/.env')).status).toBe(404);
    expect((await routes.request('/console/notes.txt')).status).toBe(404);
  });
});
