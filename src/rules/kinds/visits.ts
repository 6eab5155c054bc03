import { DAY, HOUR, calendarDate } from '../../calendar/index.js';
import type { EngineEvent } from '../events.js';
import { plansAsOf } from '../plans.js';
import type { CountingSpec, Need, Unit } from './types.js';

/**
 * Visits, the unit frequency and caps count (issue: "visits as the unit").
 * A visit is one agency's on-site presence at one company on one occasion,
 * assembled from that agency's scans (enter and exit) and on-site inspection
 * records: an event belongs to the visit while an officer who scanned in has
 * not scanned out (up to LONGEST_VISIT), or within `gap` of its latest event.
 * Agencies that come in turn are separate visits. A joint visit — agencies
 * named together in one plan (its agency and joint_agency_ids, or the same
 * plan_id on their scans and records), present within `gap` of each other —
 * counts once. `plans` are the company's plan events, to recognise joint plans.
 */
export function assembleVisits(presences: readonly EngineEvent[], plans: readonly EngineEvent[], gapHours: number): Unit[] {
  const gap = gapHours * HOUR;
  const perAgency: Array<Unit & { last: number; agency: string; inside: Set<string> }> = [];
  const open = new Map<string, (typeof perAgency)[number]>();
  for (const e of [...presences].sort((a, b) => timeOf(a) - timeOf(b))) {
    const at = timeOf(e);
    const visit = open.get(e.agency_id);
    // Officers who scanned in and not yet out are still there: a long visit stays one visit until they leave.
    const stillInside = visit !== undefined && visit.inside.size > 0 && at - visit.at <= LONGEST_VISIT;
    if (visit && (at - visit.last <= gap || stillInside)) {
      visit.events.push(e);
      visit.last = at;
      track(visit.inside, e);
    } else {
      const started = { at, last: at, agency: e.agency_id, events: [e], inside: new Set<string>() };
      track(started.inside, e);
      open.set(e.agency_id, started);
      perAgency.push(started);
    }
  }
  const joint: Array<Unit & { last: number; agencies: Set<string> }> = [];
  for (const visit of perAgency) {
    const partner = joint.find((j) => !j.agencies.has(visit.agency) && visit.at - j.last <= gap && j.at - visit.last <= gap
      && [...j.agencies].every((other) => plannedTogether(other, visit.agency, j.events, visit.events, plans, visit.at)));
    if (partner) {
      partner.events.push(...visit.events);
      partner.agencies.add(visit.agency);
      partner.last = Math.max(partner.last, visit.last);
    } else {
      joint.push({ at: visit.at, last: visit.last, events: [...visit.events], agencies: new Set([visit.agency]) });
    }
  }
  return joint.map(({ at, events }) => ({ at, events: events.sort((a, b) => a.occurred_at - b.occurred_at) }));
}

/** Local choice: officers who never scanned out are taken to have left after 12 hours (exit-without-scan's span). */
const LONGEST_VISIT = 12 * HOUR;

function track(inside: Set<string>, e: EngineEvent): void {
  if (e.type !== 'checkin') return;
  for (const officer of e.officer_ids) {
    if (e.action === 'enter') inside.add(officer);
    else inside.delete(officer);
  }
}

/** When an on-site presence happened: an inspection record's start, a scan's time. */
export const timeOf = (e: EngineEvent) => (e.type === 'inspection' ? e.started_at ?? e.occurred_at : e.occurred_at);

function plannedTogether(a: string, b: string, aEvents: readonly EngineEvent[], bEvents: readonly EngineEvent[], plans: readonly EngineEvent[], at: number): boolean {
  const aPlans = new Set(aEvents.map((e) => e.plan_id).filter(Boolean));
  if (bEvents.some((e) => e.plan_id !== '' && aPlans.has(e.plan_id))) return true;
  const day = calendarDate(at);
  // The plan as it stood at the visit: a later cancelled version withdraws it, one cancelled after the visit does not.
  return plansAsOf(plans, at).some((p) => p.status !== 'cancelled' && p.window_start !== null && p.window_end !== null
    && p.window_start <= day && day <= p.window_end
    && [p.agency_id, ...p.joint_agency_ids].includes(a) && [p.agency_id, ...p.joint_agency_ids].includes(b));
}

/** Joint plans are filed ahead of the visits they cover: counting visits reads plans from this long before. */
const JOINT_PLAN_LOOKBACK = 60 * DAY;

export const planNeeds = (counting: CountingSpec, from: number, to: number): Need[] =>
  (typeof counting === 'object' && 'visits' in counting ? [{ types: ['plan'], from: from - JOINT_PLAN_LOOKBACK, to }] : []);
