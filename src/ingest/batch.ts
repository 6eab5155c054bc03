import type { Context } from 'hono';
import { z } from 'zod';
import { listed } from '../http/json.js';
import { failure, ref } from '../http/route.js';
import { readItems, type FieldError } from './body.js';
import { validateAll } from './validate.js';

/**
 * Reads and validates a whole batch. On failure it returns the response to
 * send (400/413/415 naming every bad field); nothing of the batch is used.
 */
export async function readValidBatch<S extends z.ZodType>(
  c: Context,
  schema: S,
  maxItems: number,
  extraCheck?: (value: z.infer<S>) => Omit<FieldError, 'index'>[],
): Promise<{ values: z.infer<S>[] } | { response: Response }> {
  const body = await readItems(c, { maxItems });
  if (!body.ok) {
    return { response: c.json({ error: body.error, message: body.message, ...listed(body.errors ?? []) }, body.status) };
  }
  const result = validateAll(schema, body.items, extraCheck);
  if (!result.ok) {
    return {
      response: c.json({
        error: 'validation_failed',
        message: `${result.errors.length} problem(s) in ${body.items.length} item(s); nothing was stored`,
        ...listed(result.errors),
      }, 400),
    };
  }
  return { values: result.values };
}

/**
 * A batch body in the OpenAPI document, written by hand: readValidBatch reads
 * it (JSON or NDJSON) and validates each item, so that errors carry the item's
 * index; the route's own validator never sees it. The items are the component
 * `item` (batchItem).
 */
export const batchBody = (item: string) => ({
  required: true,
  description: 'One item, a JSON array of items, or NDJSON (one item per line)',
  content: {
    'application/json': { schema: { oneOf: [ref(item), { type: 'array' as const, items: ref(item) }] } },
    'application/x-ndjson': { schema: ref(item) },
  },
});

/** The JSON Schema of a batch's item, for its component (the same zod schema readValidBatch validates with). */
export const batchItem = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });

export const batchErrors = {
  400: failure('Malformed or too deeply nested JSON, or invalid items; lists the problems (at most 100); nothing was stored'),
  403: failure("An item touches data outside the token's jurisdiction (its region, or the home of a company or agency it names); names each; nothing was stored"),
  408: failure('The body did not arrive within REQUEST_BODY_TIMEOUT_MS'),
  413: failure('Body or item count over the limit'),
  415: failure('Content-Type missing, or not JSON or NDJSON'),
  503: failure('Redis or ClickHouse unavailable; nothing was accepted, retry'),
};
