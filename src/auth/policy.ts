import type { MiddlewareHandler } from 'hono';
import type { Permission } from './roles.js';

/**
 * What a route takes, declared by the route itself (src/http/route.ts puts it
 * first among the route's handlers). A route without one is refused (403)
 * rather than open, and a test walks the app's routes to find any. Several
 * permissions mean any one of them; 'any-token' is every valid token.
 */
export type Access = 'public' | 'metrics' | 'any-token' | readonly Permission[];

const DECLARED = new WeakMap<Function, Access>();

/** The handler a route starts with to declare its access rule; it does nothing when the request reaches it. */
export function requires(access: Access): MiddlewareHandler {
  const declaration: MiddlewareHandler = (_c, next) => next();
  DECLARED.set(declaration, access);
  return declaration;
}

/** The access rule among a route's handlers, if it declared one. */
export const accessOf = (handler: Function): Access | undefined => DECLARED.get(handler);

/** `METHOD /pattern` of every route an app answers, with its access rule (undefined: it declared none). */
export function routeAccess(app: { routes: ReadonlyArray<{ method: string; path: string; handler: Function }> }): Map<string, Access | undefined> {
  const table = new Map<string, Access | undefined>();
  for (const { method, path, handler } of app.routes) {
    if (method === 'ALL') continue;
    const key = `${method} ${path}`;
    table.set(key, table.get(key) ?? accessOf(handler));
  }
  return table;
}
