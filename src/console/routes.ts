import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { requires } from '../auth/policy.js';
import { routeGroup } from '../http/route.js';

/**
 * The console: a plain HTML/CSS/JS-module page (no build step, nothing fetched
 * from elsewhere) served at `/`, with its assets under `/console/`.
 *
 * The files live in `src/console/public` at the package root, found from this
 * module's own location the way the shipped rules are (src/console or
 * dist/console: two levels up is the package root), so `tsx src/…` and
 * `node dist/…` serve the same files and a build copies nothing.
 */
export const CONSOLE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'console', 'public');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
};

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
}

/**
 * Only files present in the directory are ever served (the request path is a
 * key into that list, never joined onto a file system path), so `..` and
 * encoded tricks find nothing.
 */
function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith('.')) return [];
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return listFiles(join(dir, entry.name), rel);
    return entry.isFile() && TYPES[extname(entry.name)] ? [rel] : [];
  });
}

function load(dir: string, rel: string): Asset {
  return loadFile(join(dir, ...rel.split('/')));
}

function loadFile(path: string): Asset {
  const body = new Uint8Array(readFileSync(path));
  return {
    body,
    type: TYPES[extname(path)]!,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
  };
}

/**
 * Libraries the page imports, served from the installed npm packages under `/console/vendor/` (same origin,
 * so the CSP's script-src 'self' admits them; nothing is fetched from a CDN). Apache ECharts draws the
 * justice bureau's charts; its ES module build needs no bundler.
 */
const VENDOR: Record<string, () => string> = {
  'vendor/echarts.esm.min.js': () => createRequire(import.meta.url).resolve('echarts/dist/echarts.esm.min.js'),
};

/**
 * The page's security policy: scripts, styles and connections from this
 * origin only, no inline script or style, no framing, no plugins. The live
 * feed's WebSocket is this origin too: CSP Level 3 lets 'self' match ws: and
 * wss: on the page's own host, so the policy names no host, and nothing a
 * client sends (the Host header) is copied into it.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

export interface ConsoleOptions {
  /** The directory to serve; tests may point elsewhere. */
  dir?: string;
  /**
   * Re-read files on every request (for editing the page while the service runs).
   * Off by default: the files are read once, at start, and served from memory.
   */
  live?: boolean;
}

export function consoleRoutes(options: ConsoleOptions = {}): OpenAPIHono {
  const dir = options.dir ?? CONSOLE_DIR;
  const app = routeGroup();
  let exists = true;
  try {
    exists = statSync(dir).isDirectory();
  } catch {
    exists = false;
  }
  // A deployment without the page still serves the API; `/` then says where the page should be.
  const files = exists ? listFiles(dir) : [];
  const cache = new Map<string, Asset>();
  const asset = (rel: string): Asset | undefined => {
    if (Object.hasOwn(VENDOR, rel)) return vendor(rel);
    if (!files.includes(rel)) return undefined;
    if (options.live) return load(dir, rel);
    let found = cache.get(rel);
    if (!found) cache.set(rel, (found = load(dir, rel)));
    return found;
  };

  // Read once, on first use: a deployment that never opens the justice view never reads a megabyte of ECharts.
  const vendored = new Map<string, Asset>();
  const vendor = (rel: string): Asset => {
    let found = vendored.get(rel);
    if (!found) vendored.set(rel, (found = loadFile(VENDOR[rel]!())));
    return found;
  };

  const send = (c: Context, found: Asset | undefined, page: boolean) => {
    if (!found) return c.json({ error: 'not_found', message: `no console asset ${c.req.path}` }, 404);
    // No content hashes in the names (no build step): always revalidate, cheaply, by ETag.
    const headers: Record<string, string> = {
      'Content-Type': found.type,
      'Cache-Control': 'no-cache',
      ETag: found.etag,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Resource-Policy': 'same-origin',
    };
    if (page) {
      headers['Content-Security-Policy'] = CONTENT_SECURITY_POLICY;
      headers['X-Frame-Options'] = 'DENY';
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Permissions-Policy'] = 'camera=(), microphone=(), geolocation=(), payment=()';
    }
    const match = c.req.header('if-none-match');
    if (match && match.split(',').map((t) => t.trim().replace(/^W\//, '')).includes(found.etag)) {
      return c.body(null, 304, headers);
    }
    const sized = { ...headers, 'Content-Length': String(found.body.byteLength) };
    if (c.req.method === 'HEAD') return c.body(null, 200, sized);
    return c.body(found.body, 200, sized);
  };

  const page = (c: Context) => {
    if (!exists) return c.json({ error: 'not_found', message: `the console's files are missing (${dir})` }, 404);
    return send(c, asset('index.html'), true);
  };
  // Not in the OpenAPI document (files, not the API). They hold no data: the page asks for a token, then calls the API with it.
  const open = requires('public');
  app.on(['GET', 'HEAD'], '/', open, page);
  app.on(['GET', 'HEAD'], '/index.html', open, page);
  app.on(['GET', 'HEAD'], '/console/*', open, (c) => {
    const rel = c.req.path.slice('/console/'.length);
    return send(c, asset(rel), rel.endsWith('.html'));
  });
  return app;
}
