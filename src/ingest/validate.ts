import type { z } from 'zod';
import type { FieldError } from './body.js';

/**
 * Validates every item and collects every problem, so a client fixes a batch
 * in one round trip. Either all items are valid or none is used.
 */
export type Validated<T> = { ok: true; values: T[] } | { ok: false; errors: FieldError[] };

export function validateAll<S extends z.ZodType>(
  schema: S,
  items: readonly unknown[],
  extraCheck?: (value: z.infer<S>) => Omit<FieldError, 'index'>[],
): Validated<z.infer<S>> {
  const values: z.infer<S>[] = [];
  const errors: FieldError[] = [];
  items.forEach((item, index) => {
    const result = schema.safeParse(item);
    if (!result.success) {
      errors.push(...describeIssues(result.error.issues, item, index));
      return;
    }
    const problems = extraCheck?.(result.data) ?? [];
    if (problems.length > 0) errors.push(...problems.map((p) => ({ index, ...p })));
    else values.push(result.data);
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, values };
}

function describeIssues(issues: z.core.$ZodIssue[], item: unknown, index: number): FieldError[] {
  return issues.flatMap((issue): FieldError[] => {
    const field = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ index, field: field ? `${field}.${key}` : key, message: 'is not a known field' }));
    }
    if (issue.code === 'invalid_union' && issue.path.at(-1) === 'type') {
      return [{ index, field, message: `must be one of ${(issue as { options?: unknown[] }).options?.join(', ')}` }];
    }
    if (issue.code === 'invalid_type' && valueAt(item, issue.path) === undefined) {
      return [{ index, field, message: 'is required' }];
    }
    return [{ index, field: field || '(item)', message: issue.message }];
  });
}

function valueAt(item: unknown, path: PropertyKey[]): unknown {
  let value = item;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
