import type { Context } from 'hono';
import { z } from 'zod';
import { principalOf } from '../auth/middleware.js';
import { listed, parseJson } from './json.js';
import type { RequestFieldError } from './query.js';

/**
 * JSON bodies of people's actions (alerts, silences, tickets): the same media
 * type check, the same 400 shape and the same actor and note fields everywhere.
 * The person acting is the holder of the token (src/auth/tokens.ts), never a name the body types.
 */
const required = { error: (issue: { input: unknown }) => (issue.input === undefined ? 'is required' : 'must be a string') };

export const Actor = z.string(required).trim().min(1, 'must not be empty').max(64, 'must be at most 64 characters')
  .optional()
  .describe("Deprecated: the token's holder is who acts (GET /v1/me). If sent, it must be the token's name, or the request is refused");
export const Note = z.string(required).max(2000, 'must be at most 2000 characters');

export async function readJson(c: Context): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
  const mediaType = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    return { ok: false, response: c.json({ error: 'unsupported_media_type', message: 'Content-Type must be application/json' }, 415) };
  }
  const parsed = parseJson(await c.req.text());
  return parsed.ok ? parsed : { ok: false, response: c.json({ error: parsed.error, message: parsed.message, errors: [] }, 400) };
}

/**
 * The person acting: the token's holder. A body that still names someone (`actor`, `created_by`) is accepted
 * while clients move on only when it names the same person; anyone else is refused, so nobody acts in another's name.
 */
export function actingPerson(c: Context, named: string | undefined, field: string): { ok: true; name: string } | { ok: false; response: Response } {
  const { name } = principalOf(c);
  if (named === undefined || named === name) return { ok: true, name };
  return { ok: false, response: invalid(c, 'bad request body', [{ index: null, field, message: `is deprecated and must be the token's own name (${name}) if sent: actions are recorded under the token's holder` }], 'validation_failed') };
}

export const invalid = (c: Context, message: string, errors: RequestFieldError[], error = 'invalid_request') =>
  c.json({ error, message, ...listed(errors) }, 400);
