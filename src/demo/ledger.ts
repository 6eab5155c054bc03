/**
 * Who visited which company on site, and the limits clean traffic keeps:
 * yearly caps by credit grade (云和), one visit a year per agency, and no
 * crowding towards Dezhou's 4-visits-in-15-days warning.
 */
import type { Enterprise } from '../ingest/schema.js';
import type { Office } from './records.js';
import { DAY } from '../calendar/index.js';

const YEAR = 365 * DAY;
const FORTNIGHT = 15 * DAY;
const ONSITE_PER_YEAR: Record<Enterprise['credit_grade'], number> = { A: 0, B: 1, C: 2, D: 6 };
const DEZHOU_WARNING = 4;
// Clean traffic stays well below the warning so only injected patterns trip it.
const CLEAN_VISITS_PER_FORTNIGHT = 2;

export type Limit = (company: Enterprise, office: Office, day: number) => boolean;

export function createLedger() {
  const history = new Map<string, { day: number; agencyIds: string[] }[]>();
  const visitsOf = (company: Enterprise) => history.get(company.enterprise_id) ?? [];

  function remember(company: Enterprise, offices: Office[], day: number): void {
    // Only the last year counts for any limit; dropping older visits bounds memory in an endless live run.
    const visits = visitsOf(company).filter((v) => day - v.day < YEAR);
    visits.push({ day, agencyIds: offices.map((o) => o.agency.agency_id) });
    history.set(company.enterprise_id, visits);
  }

  // Scenarios ask this of every company of a region: most have no visits, and a loop costs no closure per call.
  const visitedBy: Limit = (company, office, day) => {
    const visits = history.get(company.enterprise_id);
    if (!visits) return false;
    for (const v of visits) if (Math.abs(v.day - day) < YEAR && v.agencyIds.includes(office.agency.agency_id)) return true;
    return false;
  };

  const notTwiceADay: Limit = (company, office, day) =>
    !visitsOf(company).some((v) => v.day === day && v.agencyIds.includes(office.agency.agency_id));

  // Loops rather than filters: dense settings call these hundreds of thousands of times.
  const keepsCaps: Limit = (company, office, day) => {
    let year = 0;
    let fortnight = 0;
    for (const visit of visitsOf(company)) {
      const apart = Math.abs(visit.day - day);
      if (apart >= YEAR) continue;
      if (visit.agencyIds.includes(office.agency.agency_id)) return false;
      year++;
      if (apart < FORTNIGHT) fortnight++;
    }
    return year < ONSITE_PER_YEAR[company.credit_grade] && fortnight < CLEAN_VISITS_PER_FORTNIGHT;
  };

  const staysUncrowded: Limit = (company, office, day) => {
    let fortnight = 0;
    for (const visit of visitsOf(company)) if (Math.abs(visit.day - day) < FORTNIGHT) fortnight++;
    return fortnight < DEZHOU_WARNING - 1 && notTwiceADay(company, office, day);
  };

  return { remember, visitedBy, notTwiceADay, keepsCaps, staysUncrowded };
}

export type Ledger = ReturnType<typeof createLedger>;
