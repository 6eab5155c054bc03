import { outsideMessage, within, type OutsideItem } from '../auth/index.js';
import type { HomeKind, Homes } from '../reference/homes.js';
import type { Event } from './schema.js';

/** A company or agency an event names, and the field that names it. */
interface Named {
  kind: HomeKind;
  field: string;
  id: string;
}

/** Whose data an event touches: its companies (every company a plan names) and its agency. */
function namedBy(event: Event): Named[] {
  const companies: Named[] = event.type === 'plan'
    ? event.enterprise_ids.map((id, i) => ({ kind: 'enterprise', field: `enterprise_ids.${i}`, id }))
    : [{ kind: 'enterprise', field: 'enterprise_id', id: event.enterprise_id }];
  return event.agency_id === undefined ? companies : [...companies, { kind: 'agency', field: 'agency_id', id: event.agency_id }];
}

const registeredOutside = (jurisdiction: string) => `is registered in a region outside this token's jurisdiction (${jurisdiction})`;

/**
 * Judges a batch by the jurisdiction of what it touches: each event's region,
 * and the home of every company and agency it names (src/reference/homes.ts),
 * must lie inside the caller's jurisdiction. A company or agency without a home
 * is judged by the event's region and registered there, once nothing of the
 * batch is refused. Two lookups per batch, whatever its size; answered from
 * memory for companies seen recently. Returns every refused item and field.
 */
export async function judgeEvents(events: readonly Event[], jurisdiction: string, homes: Homes): Promise<OutsideItem[]> {
  const refused: OutsideItem[] = [];
  const named = events.map(namedBy);
  events.forEach((event, index) => {
    if (!within(event.region, jurisdiction)) refused.push({ index, field: 'region', message: outsideMessage(jurisdiction) });
  });
  const idsOf = (kind: HomeKind) => named.flat().filter((n) => n.kind === kind).map((n) => n.id);
  const [companies, agencies] = await Promise.all([homes.regions('enterprise', idsOf('enterprise')), homes.regions('agency', idsOf('agency'))]);
  const known = { enterprise: companies, agency: agencies };

  // Without a home, the first event naming it (in batch order) proposes its own region.
  const proposed = { enterprise: new Map<string, string>(), agency: new Map<string, string>() };
  named.forEach((names, index) => {
    for (const { kind, field, id } of names) {
      const home = known[kind].get(id);
      if (home === undefined) {
        if (!proposed[kind].has(id)) proposed[kind].set(id, events[index]!.region);
      } else if (!within(home, jurisdiction)) {
        refused.push({ index, field, message: registeredOutside(jurisdiction) });
      }
    }
  });
  if (refused.length > 0 || (proposed.enterprise.size === 0 && proposed.agency.size === 0)) return refused;

  // Another request may have registered one of them a moment ago, in another region: its home holds.
  const [newCompanies, newAgencies] = await Promise.all([homes.register('enterprise', proposed.enterprise), homes.register('agency', proposed.agency)]);
  const registered = { enterprise: newCompanies, agency: newAgencies };
  named.forEach((names, index) => {
    for (const { kind, field, id } of names) {
      const home = registered[kind].get(id);
      if (home !== undefined && !within(home, jurisdiction)) refused.push({ index, field, message: registeredOutside(jurisdiction) });
    }
  });
  return refused;
}
