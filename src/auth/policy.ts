import type { Permission } from './roles.js';

/**
 * Every route and what it takes, in one table: a route missing here is
 * refused (403) rather than open, and a test walks the app's routes to keep
 * the table complete. Several permissions mean any one of them; 'any-token' is every valid token.
 */
export type Access = 'public' | 'metrics' | 'any-token' | readonly Permission[];

const HOTLINE_ACTIONS = ['claim', 'release', 'assign', 'categorise', 'notes', 'resolve', 'reopen'];

export const ROUTE_ACCESS: Record<string, Access> = {
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /metrics': 'metrics',
  'GET /openapi.json': 'public',
  // The console's page and files hold no data: it asks for a token, then calls the API with it.
  'GET /': 'public',
  'GET /index.html': 'public',
  'GET /console/*': 'public',

  'POST /v1/events': ['events:write', 'complaints:write'],
  'PUT /v1/enterprises': ['reference:write'],
  'PUT /v1/agencies': ['reference:write'],
  'GET /v1/enterprises/:id': ['reference:read'],
  'GET /v1/agencies/:id': ['reference:read'],
  'GET /v1/enterprises/:id/timeline': ['timeline:read', 'timeline:own'],

  'GET /v1/alerts': ['alerts:read'],
  'GET /v1/alerts/stream': ['feed:read'],
  'GET /v1/alerts/:id': ['alerts:read'],
  'POST /v1/alerts/:id/ack': ['alerts:act'],
  'POST /v1/alerts/:id/resolve': ['alerts:act'],
  'POST /v1/alerts/:id/reopen': ['alerts:act'],

  'GET /v1/silences': ['silences:read'],
  'POST /v1/silences': ['silences:write'],
  'GET /v1/silences/:id': ['silences:read'],
  'POST /v1/silences/:id/expire': ['silences:write'],

  'GET /v1/hotline/tickets': ['tickets:read'],
  'GET /v1/hotline/tickets/:id': ['tickets:read'],
  ...Object.fromEntries(HOTLINE_ACTIONS.map((action) => [`POST /v1/hotline/tickets/:id/${action}`, ['tickets:act'] as const])),

  'GET /v1/rules': ['rules:read'],
  'GET /v1/rules/:id': ['rules:read'],

  'GET /v1/me': 'any-token',
  'GET /v1/audit': ['audit:read'],
  'GET /v1/tokens': ['tokens:admin'],
  'POST /v1/tokens': ['tokens:admin'],
  'POST /v1/tokens/:id/revoke': ['tokens:admin'],
  'POST /v1/backups': ['backups:write'],
};

/** HEAD is answered by the GET route. */
export const routeKey = (method: string, path: string) => `${method === 'HEAD' ? 'GET' : method} ${path}`;
