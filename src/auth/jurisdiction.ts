import type { Context } from 'hono';
import { listed } from '../http/json.js';
import { principalOf } from './middleware.js';

/**
 * A token's jurisdiction is a division-code prefix ('' = everywhere). Lists are
 * narrowed to it, single items outside it are answered as if they did not
 * exist (404), so a 德州 token learns nothing about 烟台, not even that an id exists.
 */
export const within = (region: string, jurisdiction: string) => region.startsWith(jurisdiction);

/**
 * The region prefix to list with: the one asked for when it lies inside the
 * jurisdiction, the jurisdiction when it asked for something wider, and null
 * when the two cannot overlap (the answer is empty).
 */
export function narrowRegion(requested: string | undefined, jurisdiction: string): string | undefined | null {
  if (!requested) return jurisdiction || undefined;
  if (requested.startsWith(jurisdiction)) return requested;
  return jurisdiction.startsWith(requested) ? jurisdiction : null;
}

/** The caller's jurisdiction ('' on public routes, which serve no regional data). */
export const jurisdictionOf = (c: Context) => principalOf(c).jurisdiction;

export const emptyPage = (c: Context) => c.json({ items: [], next_cursor: null });

/** One refused item of a write: its index in the batch (null for a single object) and the field that reaches outside. */
export interface OutsideItem {
  index: number | null;
  field: string;
  message: string;
}

export const outsideMessage = (jurisdiction: string) => `is outside this token's jurisdiction (${jurisdiction})`;

/**
 * A write that touches data outside the caller's jurisdiction: 403 naming every
 * such item and field, and nothing of the request is done.
 */
export const refuseOutside = (c: Context, refused: readonly OutsideItem[]) => c.json({
  error: 'forbidden',
  message: `${refused.length} problem(s): this token may write inside its jurisdiction (${jurisdictionOf(c)}) only; nothing was accepted`,
  ...listed(refused),
}, 403);
