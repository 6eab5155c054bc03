/**
 * Writes the bodies of a wrk run (bench/wrk.ts), one event a line, in a process of its own: generated in the
 * benchmark's process, a demo history's events would count in the service's peak RSS.
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

function bodies(spec: WrkBodies): string[] {
  if (spec.kind === 'demo') return loadEvents(spec).map((e) => JSON.stringify(e));
  return Array.from({ length: spec.count }, (_, i) => JSON.stringify({
    id: `${spec.idPrefix}-${i}`, type: 'checkin', occurred_at: '2026-11-20T09:30:00+08:00', region: '371402', source: 'wrk',
    enterprise_id: '91350100M000100Y43', agency_id: '371400-SCJG', officer_ids: ['371400-SCJG-001'], action: 'enter', method: 'qr',
  }));
}

if (import.meta.filename === process.argv[1]) {
  const [file, spec] = process.argv.slice(2);
  writeFileSync(file!, `${bodies(JSON.parse(spec!) as WrkBodies).join('\n')}\n`);
}
