import { describe, expect, it } from 'vitest';
import { reconcile, route, type Alert, type AlertCandidate, type Inhibitor, type Silence } from '../src/alerts/index.js';

// Routing is a pure function of revisions, silences and stored alerts: its edge cases, without a service.
const NOW = new Date('2026-11-23T02:00:00Z');

function candidate(overrides: Partial<AlertCandidate>): AlertCandidate {
  return {
    fingerprint: `fp-${Math.random()}`, rule_id: 'quiet-period', rule_version: 1, variant: '', severity: 'medium', mode: 'active',
    channels: ['feed'], title: { zh: '标题', en: 'title' }, message: { zh: '消息', en: 'message' }, region: '371402',
    enterprise_id: 'E1', agency_id: 'A1', officer_ids: [], window_start: '2026-11-21T00:00:00.000Z', window_end: '2026-11-22T00:00:00.000Z',
    anchor_at: '2026-11-21T02:00:00.000Z', first_seen_at: '2026-11-21T02:00:00.000Z', last_seen_at: '2026-11-21T02:00:00.000Z',
    count: 1, evidence: [], figures: {}, params: {}, ...overrides,
  };
}

const raised = (c: AlertCandidate): Alert => reconcile(new Map(), [c], [], NOW, '')[0]!.alert;
const revisionsOf = (...candidates: AlertCandidate[]) => reconcile(new Map(), candidates, [], NOW, '');

const CAP: Inhibitor = { rule_id: 'annual-cap', severity: 'high', equal: ['enterprise_id', 'agency_id'], period: 'year' };
// The cap alert is anchored at the period's start: 2026-01-01 00:00 Shanghai.
const capAlert = raised(candidate({ rule_id: 'annual-cap', severity: 'high', anchor_at: '2025-12-31T16:00:00.000Z' }));

function silence(matchers: Partial<Silence['matchers']>): Silence {
  return {
    id: `s-${Math.random()}`, matchers: { rule: '', region: '', agency: '', enterprise: '', ...matchers }, reason: 'r', created_by: 'c',
    created_at: NOW.toISOString(), ends_at: '2026-12-01T00:00:00.000Z', expired_by: '', state: 'active',
  };
}

describe('inhibition', () => {
  const inhibitedBy = (target: AlertCandidate, stored: Alert[] = [capAlert]) =>
    route(revisionsOf(target), { silences: [], alerts: stored, inhibitors: [CAP] })[0]!.alert.inhibited_by;

  it('inhibits a lower-severity alert of another rule for the same company, agency and year', () => {
    expect(inhibitedBy(candidate({}))).toBe(capAlert.id);
  });

  it('does not inhibit across a year boundary (Shanghai time), another agency or company, or equal severity', () => {
    // 2026-12-31T16:00Z is already 2027-01-01 in Shanghai.
    expect(inhibitedBy(candidate({ anchor_at: '2026-12-31T16:00:00.000Z' }))).toBe('');
    expect(inhibitedBy(candidate({ anchor_at: '2026-12-31T15:59:59.000Z' }))).toBe(capAlert.id);
    expect(inhibitedBy(candidate({ agency_id: 'A2' }))).toBe('');
    expect(inhibitedBy(candidate({ enterprise_id: 'E2' }))).toBe('');
    expect(inhibitedBy(candidate({ rule_id: 'no-plan', severity: 'high' }))).toBe('');
  });

  it('needs an open, active source: a resolved or shadow cap alert inhibits nothing', () => {
    expect(inhibitedBy(candidate({}), [{ ...capAlert, status: 'resolved' }])).toBe('');
    expect(inhibitedBy(candidate({}), [{ ...capAlert, mode: 'shadow' }])).toBe('');
  });

  it('a cap alert raised in the same evaluation inhibits its companions', () => {
    const cap = candidate({ rule_id: 'annual-cap', severity: 'high', anchor_at: '2025-12-31T16:00:00.000Z' });
    const routed = route(revisionsOf(cap, candidate({})), { silences: [], alerts: [], inhibitors: [CAP] });
    expect(routed.map((r) => r.alert.inhibited_by)).toEqual(['', cap.fingerprint]);
  });
});

describe('silences', () => {
  it('marks an alert with every matching silence; empty matchers match anything, region by prefix', () => {
    const byRule = silence({ rule: 'quiet-period' });
    const byRegion = silence({ region: '3714' });
    const otherRegion = silence({ region: '3706' });
    const otherCompany = silence({ rule: 'quiet-period', enterprise: 'E9' });
    const [routed] = route(revisionsOf(candidate({})), { silences: [byRule, byRegion, otherRegion, otherCompany], alerts: [], inhibitors: [] });
    expect(routed!.alert.silenced_by).toEqual([byRule.id, byRegion.id]);
  });
});
