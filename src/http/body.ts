import type { Context } from 'hono';
import { z } from 'zod';
import { listed, parseJson } from './json.js';
import type { RequestFieldError } from './query.js';

/**
 * JSON bodies of people's actions (alerts, silences, tickets): the same media
 * type check, the same 400 shape and the same actor and note fields everywhere.
 */
const required = { error: (issue: { input: unknown }) => (issue.input === undefined ? 'is required' : 'must be a string') };

export const Actor = z.string(required).trim().min(1, 'must not be empty').max(64, 'must be at most 64 characters')
  .describe('Who acts, as the person names themselves; the audit log adds the role of the token they used');
export const Note = z.string(required).max(2000, 'must be at most 2000 characters');

export async function readJson(c: Context): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
  const mediaType = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    return { ok: false, response: c.json({ error: 'unsupported_media_type', message: 'Content-Type must be application/json' }, 415) };
  }
  const parsed = parseJson(await c.req.text());
  return parsed.ok ? parsed : { ok: false, response: c.json({ error: parsed.error, message: parsed.message, errors: [] }, 400) };
}

export const invalid = (c: Context, message: string, errors: RequestFieldError[], error = 'invalid_request') =>
  c.json({ error, message, ...listed(errors) }, 400);
