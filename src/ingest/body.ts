import type { Context } from 'hono';
import { MAX_JSON_DEPTH, nestedDeeperThan, parseJson, tooDeep } from '../http/json.js';

/**
 * Reads a request body of one object, a JSON array, or NDJSON into items.
 * Every failure is a client error with a message naming what was wrong.
 */
export interface BodyLimits {
  maxItems: number;
}

export type BodyResult =
  | { ok: true; items: unknown[] }
  | { ok: false; status: 400 | 413 | 415; error: string; message: string; errors?: FieldError[] };

export interface FieldError {
  index: number | null;
  field: string;
  message: string;
}

const JSON_TYPES = new Set(['application/json']);
const NDJSON_TYPES = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl']);

export async function readItems(c: Context, limits: BodyLimits): Promise<BodyResult> {
  const mediaType = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const isNdjson = NDJSON_TYPES.has(mediaType);
  if (!isNdjson && !JSON_TYPES.has(mediaType)) {
    return {
      ok: false, status: 415, error: 'unsupported_media_type',
      message: `Content-Type must be application/json or application/x-ndjson, got ${JSON.stringify(mediaType.slice(0, 100) || 'none')}`,
    };
  }
  const text = await c.req.text();
  const parsed = isNdjson ? parseNdjson(text) : parseItems(text);
  if (!parsed.ok) return parsed;
  if (parsed.items.length === 0) {
    return { ok: false, status: 400, error: 'empty_body', message: 'the body holds no items' };
  }
  if (parsed.items.length > limits.maxItems) {
    return {
      ok: false, status: 413, error: 'too_many_items',
      message: `a request may carry at most ${limits.maxItems} items, this one has ${parsed.items.length}`,
    };
  }
  return parsed;
}

function parseItems(text: string): BodyResult {
  const parsed = parseJson(text);
  if (!parsed.ok) return { ...parsed, status: 400 };
  const { value } = parsed;
  if (Array.isArray(value)) return { ok: true, items: value };
  if (value !== null && typeof value === 'object') return { ok: true, items: [value] };
  return { ok: false, status: 400, error: 'malformed_json', message: 'body must be a JSON object or an array of objects' };
}

function parseNdjson(text: string): BodyResult {
  // One pass over the whole text: each well-formed line returns to depth 0.
  if (nestedDeeperThan(text, MAX_JSON_DEPTH)) return { ...tooDeep, status: 400 };
  const items: unknown[] = [];
  const errors: FieldError[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      items.push(JSON.parse(line));
    } catch (err) {
      errors.push({ index: items.length + errors.length, field: '', message: `line is not valid JSON: ${(err as Error).message}` });
    }
  }
  if (errors.length > 0) {
    return { ok: false, status: 400, error: 'malformed_ndjson', message: `${errors.length} line(s) are not valid JSON`, errors };
  }
  return { ok: true, items };
}
