import { calendarDate } from '../../calendar/index.js';
import type { EngineEvent } from '../events.js';

/**
 * Plans have an identity (`plan_id`, by default the event id): a later
 * version of a plan supersedes the earlier one, and a cancelled version
 * withdraws its cover from the moment it was filed. What stood at an instant
 * is therefore the latest version filed by then. Seen from a visit at
 * `anchor`, each plan is:
 * - the version standing at the anchor, dated by the first of the unbroken
 *   run of standing versions that already covered the visit's day (the lead
 *   time counts from when the cover began, not from a later edit);
 * - or, if none stood then, its versions filed afterwards (an urgent check's
 *   plan filed later), until one cancels it.
 * Other events pass through unchanged.
 *
 * A joint plan that names plans in `replaces` (合并) withdraws them from its
 * own filing on, as a cancelled version of each would.
 *
 * Reading: the events table holds a plan once per company it names, so a
 * version that drops a company is not seen from that company; withdrawing a
 * company takes a cancelled version naming it.
 */
export function plansAsOf(events: readonly EngineEvent[], anchor: number): EngineEvent[] {
  const versions = new Map<string, EngineEvent[]>();
  const out: EngineEvent[] = [];
  for (const e of events) {
    if (e.type !== 'plan') {
      out.push(e);
      continue;
    }
    const id = e.plan_id || e.id;
    const list = versions.get(id);
    if (list) list.push(e);
    else versions.set(id, [e]);
  }
  for (const [id, withdrawal] of mergedAway(events)) versions.get(id)?.push(withdrawal);
  const day = calendarDate(anchor);
  const covers = (p: EngineEvent) => p.status !== 'cancelled' && p.window_start !== null && p.window_end !== null && p.window_start <= day && day <= p.window_end;
  for (const list of versions.values()) {
    list.sort((a, b) => a.occurred_at - b.occurred_at || (a.id < b.id ? -1 : 1));
    const before = list.filter((p) => p.occurred_at <= anchor);
    const standing = before.at(-1);
    if (standing && standing.status !== 'cancelled') {
      let first = before.length - 1;
      while (first > 0 && covers(before[first - 1]!) && covers(standing)) first--;
      out.push({ ...standing, occurred_at: before[first]!.occurred_at });
      continue;
    }
    for (const later of list.filter((p) => p.occurred_at > anchor)) {
      if (later.status === 'cancelled') break;
      out.push(later);
    }
  }
  return out;
}

/**
 * Each plan merged into a joint plan (named in a standing version's `replaces`), as the cancelled version that
 * withdraws it: filed when the joint plan first named it.
 */
export function mergedAway(events: readonly EngineEvent[]): Map<string, EngineEvent> {
  const out = new Map<string, EngineEvent>();
  for (const e of events) {
    if (e.type !== 'plan' || e.status === 'cancelled') continue;
    for (const id of e.replaces) {
      const seen = out.get(id);
      if (id === (e.plan_id || e.id) || (seen && seen.occurred_at <= e.occurred_at)) continue;
      out.set(id, { ...e, id: `${e.id}>${id}`, plan_id: id, status: 'cancelled', replaces: [] });
    }
  }
  return out;
}
