import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { can } from './roles.js';
import { accessOf, type Access } from './policy.js';
import type { Principal, TokenStore } from './tokens.js';

const PRINCIPAL = 'qingjian.principal';

/** The caller of a route behind authentication. */
export function principalOf(c: Context): Principal {
  const principal = callerOf(c);
  if (!principal) throw new Error(`${c.req.method} ${c.req.path} has no caller: is the route public?`);
  return principal;
}

/** The caller, or null on a public route. */
export const callerOf = (c: Context): Principal | null => (c.get(PRINCIPAL as never) as Principal | undefined) ?? null;

/** `Authorization: Bearer <token>` → the token. */
export function bearerToken(header: string | undefined | null): string | null {
  const match = /^Bearer +([\x21-\x7e]+)$/i.exec(header?.trim() ?? '');
  return match ? match[1]! : null;
}

const unauthorized = (c: Context, message: string) => {
  c.header('WWW-Authenticate', 'Bearer realm="qingjian"');
  return c.json({ error: 'unauthorized', message }, 401);
};

/**
 * Checks every request against the access rule of the route that answers it
 * (the first matched, which is the one that runs) before its handler runs.
 * Paths no route answers fall through to 404; a route that declared no rule
 * is refused.
 */
export function authenticate(options: { tokens: TokenStore; metricsPublic: boolean }): MiddlewareHandler {
  return async (c, next) => {
    const routes = matchedRoutes(c).filter((r) => r.method !== 'ALL');
    const route = routes[0];
    if (!route) return next();
    const access: Access | undefined = routes.filter((r) => r.path === route.path).map((r) => accessOf(r.handler)).find((a) => a !== undefined);
    if (access === undefined) return c.json({ error: 'forbidden', message: `${c.req.method} ${route.path} has no access policy` }, 403);
    if (access === 'public' || (access === 'metrics' && options.metricsPublic)) return next();

    const token = bearerToken(c.req.header('authorization'));
    if (!token) return unauthorized(c, 'send a token: Authorization: Bearer <token>');
    const principal = await options.tokens.authenticate(token);
    if (!principal) return unauthorized(c, 'the token is unknown, expired or revoked');
    const needed = access === 'metrics' ? ['tokens:admin' as const] : access;
    if (needed !== 'any-token' && !needed.some((permission) => can(principal.role, permission))) {
      return c.json({ error: 'forbidden', message: `role ${principal.role} may not ${c.req.method} ${route.path}` }, 403);
    }
    c.set(PRINCIPAL as never, principal as never);
    // The audit log records which token acted, in which role, for which unit (src/audit/context.ts).
    c.set('actor' as never, principal as never);
    return next();
  };
}
