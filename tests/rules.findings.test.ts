import fc from 'fast-check';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SEVERITIES, type Severity } from '../src/alerts/model.js';
import { Event } from '../src/ingest/schema.js';
import type { ResolvedRule } from '../src/rules/compile.js';
import { companyFacts, fromEvent, type EngineEvent } from '../src/rules/events.js';
import { fingerprint, toCandidates, type Finding } from '../src/rules/findings.js';
import { loadRuleSet } from '../src/rules/load.js';
import { readableTime } from '../src/rules/wording.js';
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

/** Findings as absence's day findings are: per company, agency and day; two agencies and two days here. */
const finding = fc.record({
  agency: fc.constantFrom('371400-SCJG', '371400-YJJ'),
  day: fc.constantFrom(0, 1),
  severity: fc.option(fc.constantFrom<Severity>(...SEVERITIES), { nil: undefined }),
  from: fc.integer({ min: 0, max: 12 }),
  hours: fc.integer({ min: 0, max: 12 }),
  // Repeated events within a finding too (a trigger that is also its own weak match).
  evidence: fc.array(fc.record({ event: fc.integer({ min: 0, max: 5 }), role: fc.constantFrom('trigger', 'weak_match') }), { minLength: 1, maxLength: 4 }),
  count: fc.integer({ min: 1, max: 3 }),
  variant: fc.constantFrom('', 'manual_checkin', 'officer_unscanned'),
}).map(({ agency, day, severity, from, hours, evidence, count, variant }): Finding => ({
  key: [COMPANY.enterprise_id, agency],
  anchor: DAY + day * 86_400_000,
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
  it('merges them as folding them two at a time did (severity, span, evidence in order, count), one alert per fingerprint in order', () => {
    fc.assert(fc.property(fc.array(finding, { minLength: 1, maxLength: 12 }), (findings) => {
      const byFingerprint = new Map<string, Finding[]>();
      for (const f of findings) {
        const id = fingerprint(rule.spec.id, f.key, f.anchor);
        byFingerprint.set(id, [...(byFingerprint.get(id) ?? []), f]);
      }
      const expected = [...byFingerprint.values()].flatMap((same) => toCandidates(rule, COMPANY, [foldedPairwise(same)], naming));
      expect(toCandidates(rule, COMPANY, findings, naming)).toEqual(expected);
    }), { numRuns: 500 });
  });
});

describe('readableTime: an alert\'s times as the commission reads them', () => {
  // Intl's own Asia/Shanghai zone data: an oracle independent of the fixed offset readableTime uses.
  const shanghai = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

  it('is the Shanghai wall clock to the minute, the same on every call and for every instant of that minute', () => {
    const instants = fc.integer({ min: Date.parse('1992-01-01T00:00:00Z'), max: Date.parse('2099-12-31T23:59:59Z') });
    fc.assert(fc.property(instants, fc.integer({ min: 0, max: 59_999 }), (ms, within) => {
      const minuteStart = ms - (ms % 60_000);
      const text = readableTime(ms);
      expect(text).toBe(shanghai.format(new Date(ms)));
      expect(readableTime(ms)).toBe(text);
      expect(readableTime(minuteStart + within)).toBe(text);
      expect(readableTime(minuteStart - 1)).toBe(shanghai.format(new Date(minuteStart - 1)));
    }), { numRuns: 2_000 });
  });
});
