import type { OpenAPIHono } from '@hono/zod-openapi';
import { defineRoute, failure, routeGroup } from '../http/route.js';
import { FEED_PATH } from './server.js';

// Documented by hand: the WebSocket itself is answered by src/feed/server.ts, on the upgrade, before Hono.
const stream = defineRoute({
  method: 'get', path: FEED_PATH, access: ['feed:read'], tags: ['alerts'],
  summary: 'The live alert feed: a WebSocket (subscribe, replay after a seq, then live; see the README "Live feed")',
  responses: {
    101: { description: 'Switching to the WebSocket protocol' },
    426: failure('Plain HTTP: this path only upgrades'),
  },
});

/** The feed's path answers plain HTTP with a pointer to the protocol (upgrades never reach Hono). */
export function feedRoutes(): OpenAPIHono {
  const app = routeGroup();
  app.openapi(stream, (c) => {
    c.header('Upgrade', 'websocket');
    return c.json({ error: 'upgrade_required', message: `${FEED_PATH} is a WebSocket endpoint; see the README's "Live feed" section` }, 426);
  });
  return app;
}
