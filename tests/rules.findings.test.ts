import fc from 'fast-check';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SEVERITIES, type Severity } from '../src/alerts/model.js';
import { Event } from '../src/ingest/schema.js';
import type { ResolvedRule } from '../src/rules/compile.js';
import { companyFacts, fromEvent, type EngineEvent } from '../src/rules/events.js';
import { toCandidates, type Finding } from '../src/rules/findings.js';
import { loadRuleSet } from '../src/rules/load.js';
import { checkin, creditCode } from './support/fixtures.js';

const COMPANY = companyFacts({ enterprise_id: creditCode('371402', 7), name: '德州丙', region: '371402', credit_grade: 'C', whitelisted: false });
const naming = { agencyName: (id: string) => `机关${id}` };
const DAY = Date.parse('2026-11-20T00:00:00+08:00');

let rule: ResolvedRule;
beforeAll(async () => {
  const set = await loadRuleSet(join(import.meta.dirname, '..', 'rules'));
  rule = set.rules.find((r) => r.spec.id === 'entry-without-scan')!.forRegion(COMPANY.region)!;
});

const events: EngineEvent[] = Array.from({ length: 6 }, (_, i) => fromEvent(Event.parse(checkin({
  id: `ev-${i}`, enterprise_id: COMPANY.enterprise_id, occurred_at: new Date(DAY + (9 + i) * 3_600_000).toISOString(),
})))[0]!);

/** Findings as absence's day findings are: one company, agency and day, so one fingerprint. */
const finding = fc.record({
  severity: fc.option(fc.constantFrom<Severity>(...SEVERITIES), { nil: undefined }),
  from: fc.integer({ min: 0, max: 12 }),
  hours: fc.integer({ min: 0, max: 12 }),
  // Repeated events within a finding too (a trigger that is also its own weak match).
  evidence: fc.array(fc.record({ event: fc.integer({ min: 0, max: 5 }), role: fc.constantFrom('trigger', 'weak_match') }), { minLength: 1, maxLength: 4 }),
  count: fc.integer({ min: 1, max: 3 }),
  variant: fc.constantFrom('', 'manual_checkin', 'officer_unscanned'),
}).map(({ severity, from, hours, evidence, count, variant }): Finding => ({
  key: [COMPANY.enterprise_id, '371400-SCJG'],
  anchor: DAY,
  windowStart: DAY + from * 3_600_000,
  windowEnd: DAY + (from + hours) * 3_600_000,
  variant,
  severity,
  evidence: evidence.map((e) => ({ event: events[e.event]!, role: e.role })),
  figures: { variant },
  count,
}));

/** The merge as it was first written, two findings at a time: the oracle. */
function foldedPairwise(findings: readonly Finding[]): Finding {
  const rank = (s: Severity | undefined) => SEVERITIES.indexOf(s ?? rule.spec.severity);
  return findings.reduce((a, b) => {
    const ids = new Set(a.evidence.map((e) => e.event.id));
    return {
      ...(rank(b.severity) > rank(a.severity) ? b : a),
      windowStart: Math.min(a.windowStart, b.windowStart),
      windowEnd: Math.max(a.windowEnd, b.windowEnd),
      evidence: [...a.evidence, ...b.evidence.filter((e) => !ids.has(e.event.id))],
      count: a.count + b.count,
    };
  });
}

describe('toCandidates: findings of one fingerprint make one alert', () => {
  it('merges them as folding them two at a time did: severity, span, evidence in order, count', () => {
    fc.assert(fc.property(fc.array(finding, { minLength: 1, maxLength: 8 }), (findings) => {
      const merged = toCandidates(rule, COMPANY, findings, naming);
      expect(merged).toHaveLength(1);
      expect(merged).toEqual(toCandidates(rule, COMPANY, [foldedPairwise(findings)], naming));
    }), { numRuns: 500 });
  });
});
