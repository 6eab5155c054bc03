import { outsideMessage, within, type OutsideItem, type Principal } from '../auth/index.js';

/** What an upsert writes, as its answer names it: the thing, its id field, and the field that places it in a region. */
export interface UpsertSubject {
  noun: string;
  idField: string;
  regionField: string;
}

/**
 * An upsert touches the stored record (if any) and the new one: both must lie in the caller's jurisdiction, and
 * moving a record to another region is an admin's act, so a platform cannot take another region's company (agency,
 * officer) into its own. `stored` is the stored record's region, undefined when there is none.
 */
export function judgeUpsert(caller: Principal, subject: UpsertSubject, item: { region: string }, stored: string | undefined, index: number): OutsideItem[] {
  const { jurisdiction } = caller;
  const refused: OutsideItem[] = [];
  if (!within(item.region, jurisdiction)) refused.push({ index, field: subject.regionField, message: outsideMessage(jurisdiction) });
  // The stored record's region is not named: a foreign token learns only that it may not touch this id.
  if (stored !== undefined && !within(stored, jurisdiction)) {
    refused.push({ index, field: subject.idField, message: `is registered in a region outside this token's jurisdiction (${jurisdiction})` });
  } else if (stored !== undefined && stored !== item.region && caller.role !== 'admin') {
    refused.push({ index, field: subject.regionField, message: `would move the ${subject.noun} from ${stored} to ${item.region}: only an admin token whose jurisdiction covers both may move it` });
  }
  return refused;
}
