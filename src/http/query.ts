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

// Storage holds times from 1900 to 2299 and refuses a bound outside (a 500 for from=0000-01-01); a bound
// beyond them selects exactly what the range's end does, so it is moved there.
const EARLIEST = Date.parse('1900-01-01T00:00:00Z');
const LATEST = Date.parse('2299-12-31T23:59:59.999Z');
const inStorageRange = (d: Date) => new Date(Math.min(LATEST, Math.max(EARLIEST, d.getTime())));

// A bare date is a calendar day in China: 2026-03-01 means from 2026-03-01T00:00+08:00.
export const TimeBound = z.union([
  z.iso.datetime({ offset: true }).transform((t) => inStorageRange(new Date(t))),
  z.iso.date().transform((d) => inStorageRange(new Date(`${d}T00:00:00+08:00`))),
], { message: 'must be an RFC 3339 time with offset or a date YYYY-MM-DD' })
  .describe('An RFC 3339 time with offset, or a date YYYY-MM-DD (the day in Asia/Shanghai); from is inclusive, to exclusive');

/** One field error per zod issue; unknown keys are named as the field itself, with their path. */
export function fieldErrors(error: z.ZodError, unknownKey = 'is not a known parameter'): RequestFieldError[] {
  return error.issues.map((i) => i.code === 'unrecognized_keys'
    ? { index: null, field: i.keys.map((key) => [...i.path, key].join('.')).join(', '), message: unknownKey }
    : { index: null, field: i.path.join('.'), message: i.message });
}

/** A page cursor: valid only if `decode` (the store's own) reads it. */
export const Cursor = (decode: (text: string) => unknown) => z.string().max(500)
  .refine((text) => decode(text) !== null, 'is not a cursor this service issued')
  .describe('next_cursor of the previous page');

/**
 * A query schema that reads the first of a repeated parameter (`?limit=1&limit=2` is limit=1), as Hono's
 * c.req.query() does; the route validator hands over every value of a repeated one. (A preprocess is a
 * pipe, which the document generator reads as its object; its own type is stricter than a route's.)
 */
export const firstValues = <S extends z.ZodObject>(schema: S) => z.preprocess((query) => Object.fromEntries(
  Object.entries(query as Record<string, string | string[]>).map(([key, value]) => [key, Array.isArray(value) ? value[0] : value])),
schema) as unknown as z.ZodPipe<z.ZodTransform, S>;
