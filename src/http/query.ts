import { z } from 'zod';

/**
 * Request parsing shared by the read routes: time bounds and the 400 body's
 * field errors, so every route names a bad parameter the same way.
 */

/** A problem with one request-level field (`index` is for items of a batch, so null here). */
export interface RequestFieldError {
  index: null;
  field: string;
  message: string;
}

// A bare date is a calendar day in China: 2026-03-01 means from 2026-03-01T00:00+08:00.
export const TimeBound = z.union([
  z.iso.datetime({ offset: true }).transform((t) => new Date(t)),
  z.iso.date().transform((d) => new Date(`${d}T00:00:00+08:00`)),
], { message: 'must be an RFC 3339 time with offset or a date YYYY-MM-DD' });

/** One field error per zod issue; unknown keys are named as the field itself, with their path. */
export function fieldErrors(error: z.ZodError, unknownKey = 'is not a known parameter'): RequestFieldError[] {
  return error.issues.map((i) => i.code === 'unrecognized_keys'
    ? { index: null, field: i.keys.map((key) => [...i.path, key].join('.')).join(', '), message: unknownKey }
    : { index: null, field: i.path.join('.'), message: i.message });
}
