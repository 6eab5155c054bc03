import type { Context } from 'hono';
import type { z } from 'zod';
import { listed } from '../http/json.js';
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
