import { creditCodeCheckChar } from '../../src/ingest/credit-code.js';

/** A valid credit code for a 6-digit district and a serial number. */
export function creditCode(district = '371402', serial = 1): string {
  const first17 = `91${district}${String(serial).padStart(9, '0')}`;
  return first17 + creditCodeCheckChar(first17);
}

export const ENTERPRISE = creditCode('371402', 1);

let counter = 0;
export const uniqueId = (prefix = 'ev') => `${prefix}-${process.pid}-${Date.now()}-${++counter}`;

export function checkin(overrides: Record<string, unknown> = {}) {
  return {
    id: uniqueId('ci'),
    type: 'checkin',
    occurred_at: '2026-11-20T09:30:00+08:00',
    region: '371402',
    source: 'dezhou-app',
    enterprise_id: ENTERPRISE,
    agency_id: '371400-SCJG',
    officer_ids: ['371400-SCJG-001'],
    action: 'enter',
    method: 'qr',
    ...overrides,
  };
}

export function inspection(overrides: Record<string, unknown> = {}) {
  return {
    id: uniqueId('in'),
    type: 'inspection',
    occurred_at: '2026-11-20T15:00:00+08:00',
    region: '371402',
    source: 'dezhou-case-system',
    enterprise_id: ENTERPRISE,
    agency_id: '371400-SCJG',
    officer_ids: ['371400-SCJG-001'],
    started_at: '2026-11-20T09:30:00+08:00',
    ended_at: '2026-11-20T11:00:00+08:00',
    onsite: true,
    outcome: 'no_issue',
    ...overrides,
  };
}

export function plan(overrides: Record<string, unknown> = {}) {
  return {
    id: uniqueId('pl'),
    type: 'plan',
    occurred_at: '2026-11-10T10:00:00+08:00',
    region: '371400',
    source: 'dezhou-plan-system',
    agency_id: '371400-SCJG',
    enterprise_ids: [ENTERPRISE, creditCode('371402', 2)],
    window_start: '2026-11-18',
    window_end: '2026-11-22',
    mode: 'onsite',
    status: 'filed',
    ...overrides,
  };
}

export function complaint(overrides: Record<string, unknown> = {}) {
  return {
    id: uniqueId('co'),
    type: 'complaint',
    occurred_at: '2026-11-21T10:00:00+08:00',
    region: '371402',
    source: '12345',
    enterprise_id: ENTERPRISE,
    category: 'no_scan',
    channel: '12345',
    text: '检查人员未亮码入企',
    ...overrides,
  };
}

export function filing(overrides: Record<string, unknown> = {}) {
  return {
    id: uniqueId('fi'),
    type: 'filing',
    occurred_at: '2026-11-23T16:00:00+08:00',
    region: '331125',
    source: 'yunhe-platform',
    agency_id: '331125-SCJG',
    enterprise_id: creditCode('331125', 1),
    kind: 'quiet_period_check',
    filed_with: 'county_enforcement_office',
    visit_date: '2026-11-23',
    approved_by: '331125-SCJG-head',
    ...overrides,
  };
}

export function notice(overrides: Record<string, unknown> = {}) {
  return {
    id: uniqueId('no'),
    type: 'notice',
    occurred_at: '2026-11-10T10:00:00+08:00',
    region: '331125',
    source: 'yunhe-platform',
    agency_id: '331125-SCJG',
    enterprise_id: creditCode('331125', 1),
    officer_ids: ['331125-SCJG-001', '331125-SCJG-002'],
    matters: ['食品生产许可条件检查'],
    visit_date: '2026-11-18',
    channel: 'sms',
    ...overrides,
  };
}

export function evaluation(overrides: Record<string, unknown> = {}) {
  return {
    id: uniqueId('ev'),
    type: 'evaluation',
    occurred_at: '2026-11-20T12:00:00+08:00',
    region: '371402',
    source: 'dezhou-sms',
    enterprise_id: ENTERPRISE,
    agency_id: '371400-SCJG',
    score: 95,
    comment: '流程规范,检查到位,也没多耽误时间',
    channel: 'sms',
    ...overrides,
  };
}

/**
 * A Shanghai date about a week ago, moved into the 8th–18th of its month: never in a quiet period
 * (the last ten or fifteen days), so an unplanned check-in on it raises exactly one no-plan alert.
 */
export const MID_MONTH_WEEK_AGO = (() => {
  const d = new Date(Date.now() - 7 * 24 * 3600_000);
  return `${d.toISOString().slice(0, 8)}${String(Math.min(Math.max(d.getUTCDate(), 8), 18)).padStart(2, '0')}`;
})();

/** An RFC 3339 time at a Shanghai date and wall-clock time. */
export const shanghaiAt = (date: string, time = '10:00:00') => `${date}T${time}+08:00`;
