import { Hono } from 'hono';
import { FEED_PATH } from './server.js';

/** The feed's path answers plain HTTP with a pointer to the protocol (upgrades never reach Hono). */
export function feedRoutes(): Hono {
  const app = new Hono();
  app.get(FEED_PATH, (c) => {
    c.header('Upgrade', 'websocket');
    return c.json({ error: 'upgrade_required', message: `${FEED_PATH} is a WebSocket endpoint; see the README's "Live feed" section` }, 426);
  });
  return app;
}
