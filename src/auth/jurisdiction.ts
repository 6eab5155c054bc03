import type { Context } from 'hono';
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

/** For batch validation: an item whose region lies outside the caller's jurisdiction is refused, naming the field. */
export const inJurisdiction = (jurisdiction: string) => (item: { region: string }) =>
  within(item.region, jurisdiction) ? [] : [{ field: 'region', message: `is outside this token's jurisdiction (${jurisdiction})` }];
