/**
 * Writes the bodies of a wrk run (bench/wrk.ts), one event a line, in a process of its own: generated in the
 * benchmark's process, a demo history's events would count in the service's peak RSS. Beside them, as a JSON array,
 * the lead that must be sent before them (`FILE.lead.json`).
 *
 *   npx tsx bench/wrk-bodies.ts FILE '{"kind":"demo","count":120000,"seed":3,"idPrefix":"wrk"}'
 */
import { writeFileSync } from 'node:fs';
import { loadEvents } from './load-events.js';

export type WrkBodies =
  /** What the Node client's single-event phase sends (`loadEvents`: a demo history's events, its plans with their visits, in order). */
  | { kind: 'demo'; count: number; seed: number; idPrefix: string }
  /**
   * Check-ins at one company (not in the world: no reference data; a district of 德州, where no-plan is not in force)
   * at one minute of one day: each evaluation re-derives that day's one alert from all of them (docs/performance.md,
   * item 10). What wrk's row measured until 2026-12-07.
   */
  | { kind: 'one-company'; count: number; idPrefix: string };

/** Enough for a demo history's first month, when only plans, notices and filings are made (about 4,000 events). */
const LEAD_MAX = 10_000;

/**
 * The bodies, one JSON event each, in the order wrk sends them, and the lead to send before them: a demo history
 * opens with a month of plans filed ahead and no visit, which a platform sent days before; wrk sends from its first
 * visit on, the steady mix of plans, visits, records, filings and complaints.
 */
export function wrkBodies(spec: WrkBodies): { lead: string[]; bodies: string[] } {
  if (spec.kind === 'one-company') {
    return {
      lead: [],
      bodies: Array.from({ length: spec.count }, (_, i) => JSON.stringify({
        id: `${spec.idPrefix}-${i}`, type: 'checkin', occurred_at: '2026-11-20T09:30:00+08:00', region: '371402', source: 'wrk',
        enterprise_id: '91350100M000100Y43', agency_id: '371400-SCJG', officer_ids: ['371400-SCJG-001'], action: 'enter', method: 'qr',
      })),
    };
  }
  const events = loadEvents({ ...spec, count: spec.count + LEAD_MAX });
  const firstVisit = events.findIndex((e) => e.type === 'checkin' || e.type === 'inspection');
  if (firstVisit < 0 || firstVisit > LEAD_MAX) throw new Error(`the history's first visit is event ${firstVisit}: raise LEAD_MAX`);
  return {
    lead: events.slice(0, firstVisit).map((e) => JSON.stringify(e)),
    bodies: events.slice(firstVisit, firstVisit + spec.count).map((e) => JSON.stringify(e)),
  };
}

if (import.meta.filename === process.argv[1]) {
  const [file, spec] = process.argv.slice(2);
  const { lead, bodies } = wrkBodies(JSON.parse(spec!) as WrkBodies);
  writeFileSync(file!, `${bodies.join('\n')}\n`);
  writeFileSync(`${file!}.lead.json`, `[${lead.join(',')}]`);
}
