import { createRoute, OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import type { ZodType } from 'zod';
import { requires, type Access } from '../auth/policy.js';
import { invalid, readJson } from './body.js';
import { fieldErrors } from './query.js';

/**
 * How a route is declared: one `defineRoute` holds its path, its access rule,
 * and the zod schemas that validate its request; the OpenAPI document
 * (/openapi.json) is generated from the same declarations. A route group is
 * an OpenAPIHono that answers validation failures in this API's 400 shape.
 *
 *   const getThing = defineRoute({ method: 'get', path: '/v1/things/{id}', access: ['things:read'], ... });
 *   routes.openapi(getThing, (c) => …);
 */
export type RouteSpec = RouteConfig & { access: Access };

export function defineRoute<P extends string, R extends Omit<RouteSpec, 'path'> & { path: P }>({ access, ...route }: R) {
  const middleware: MiddlewareHandler[] = [requires(access), ...(hasJsonBody(route) ? [jsonMediaType] : []), ...asArray(route.middleware)];
  return createRoute({
    ...route,
    middleware,
    // The access rule is part of the contract: the document shows it, beside whether a token is needed.
    'x-access': access,
    security: access === 'public' ? [] : [{ bearer: [] }],
  } as unknown as Omit<R, 'access' | 'responses'> & { path: P; responses: Untyped });
}

// Handlers answer with c.json as before; the responses' schemas are the document's, not a type each handler must meet.
type Untyped = Record<number, { description: string }>;

/** A group of routes, mounted by the HTTP app; a failed validation answers with requestErrors('bad request'). */
export const routeGroup = () => new OpenAPIHono({ defaultHook: requestErrors('bad request') });

/**
 * The 400 for a request its schemas refuse, naming each bad field: a body is
 * `validation_failed` (an unknown key "is not a known field"), a query or path
 * `invalid_request` (an unknown parameter "is not a known parameter").
 */
export function requestErrors(message: string, bodyMessage = 'bad request body') {
  return (result: { success: boolean; target: string; error?: unknown }, c: Context) => {
    if (result.success) return undefined;
    const error = result.error as Parameters<typeof fieldErrors>[0];
    return result.target === 'json'
      ? invalid(c, bodyMessage, fieldErrors(error, 'is not a known field'), 'validation_failed')
      : invalid(c, message, fieldErrors(error));
  };
}

/** A JSON request body validated by `schema` (a zod schema with an id becomes a named component). */
export const jsonBody = <S extends ZodType>(schema: S) => ({ required: true, content: { 'application/json': { schema } } });

/** A response with a JSON body: a zod schema, a reference, or JSON Schema written by hand. */
export const json = (description: string, schema: ZodType | object) => ({ description, content: { 'application/json': { schema: schema as ZodType } } });

/** A reference to a component schema of the document (src/http/openapi.ts, or a zod schema's id). */
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** Adds component schemas written as JSON Schema (answers, and bodies no zod schema of the route validates). */
export function components(group: OpenAPIHono, schemas: Record<string, object>): void {
  for (const [name, schema] of Object.entries(schemas)) group.openAPIRegistry.registerComponent('schemas', name, schema as never);
}

/** JSON Schema pieces for answers written by hand. */
export const shapes = {
  time: { type: 'string', format: 'date-time' },
  nullableTime: { type: ['string', 'null'], format: 'date-time' },
  text: { type: 'string' },
  strings: { type: 'array', items: { type: 'string' } },
  localized: { type: 'object', required: ['zh', 'en'], properties: { zh: { type: 'string' }, en: { type: 'string' } } },
};

/** One page of a list: `{items, next_cursor}`. */
export const page = (item: string) => ({
  type: 'object',
  required: ['items', 'next_cursor'],
  properties: { items: { type: 'array', items: ref(item) }, next_cursor: { type: ['string', 'null'] } },
});

/** An error answer: `{error, message, errors?}`. */
export const failure = (description: string) => json(description, ref('Error'));

/** The same status and shape as before routes declared bodies: 415 unless JSON, 400 for malformed or too deep JSON. */
const jsonMediaType: MiddlewareHandler = async (c, next) => {
  const read = await readJson(c);
  return read.ok ? next() : read.response;
};

const hasJsonBody = (route: Omit<RouteConfig, 'path'>) => {
  const media = route.request?.body?.content['application/json'];
  return media !== undefined && 'schema' in media && typeof (media.schema as { safeParse?: unknown }).safeParse === 'function';
};

const asArray = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
