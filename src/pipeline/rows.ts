import type { Row } from '../storage/index.js';
import { toClickHouseTime } from '../storage/index.js';
import type { Event } from '../ingest/schema.js';

/**
 * An event as rows of the `events` table: one row per company it concerns
 * (a plan names several), typed columns for what rules and dashboards filter
 * on, and the accepted JSON as `payload` for evidence and the public record.
 */
/** The event without the caller's contact, which belongs to the 12345 ticket alone (the public record and evidence never show it). */
function publicPart(event: Event): Event {
  if (event.type !== 'complaint' || !event.complainant) return event;
  const { complainant: _kept_on_the_ticket, ...rest } = event;
  return rest;
}

export function eventRows(event: Event, receivedAt: string): Row[] {
  const base = {
    id: event.id,
    type: event.type,
    occurred_at: time(event.occurred_at),
    received_at: time(receivedAt),
    region: event.region,
    source: event.source,
    agency_id: event.agency_id ?? '',
    payload: JSON.stringify(publicPart(event)),
  };
  switch (event.type) {
    case 'checkin':
      return [{
        ...base,
        enterprise_id: event.enterprise_id,
        officer_ids: event.officer_ids,
        action: event.action,
        method: event.method,
        onsite: event.onsite,
        purpose: event.purpose,
        plan_id: event.plan_id ?? '',
        urgent_reason: event.urgent_reason ?? '',
        national_basis: event.national_basis ?? '',
      }];
    case 'inspection':
      return [{
        ...base,
        enterprise_id: event.enterprise_id,
        officer_ids: event.officer_ids,
        onsite: event.onsite,
        purpose: event.purpose,
        plan_id: event.plan_id ?? '',
        urgent_reason: event.urgent_reason ?? '',
        national_basis: event.national_basis ?? '',
        started_at: time(event.started_at),
        ended_at: event.ended_at ? time(event.ended_at) : null,
        outcome: event.outcome ?? '',
        matters: event.matters ?? [],
        remedies: event.remedies ?? '',
        credit_repair: event.credit_repair ?? '',
      }];
    case 'plan':
      return [...new Set(event.enterprise_ids)].map((enterprise_id) => ({
        ...base,
        enterprise_id,
        plan_id: event.plan_id ?? event.id,
        window_start: event.window_start,
        window_end: event.window_end,
        mode: event.mode,
        onsite: event.mode === 'onsite',
        status: event.status,
        joint_agency_ids: event.joint_agency_ids ?? [],
        replaces: event.replaces ?? [],
        reviewed_by: event.reviewed_by ?? '',
        urgent_reason: event.urgent_reason ?? '',
      }));
    case 'complaint':
      return [{
        ...base,
        enterprise_id: event.enterprise_id,
        category: event.category,
        channel: event.channel,
        checkin_id: event.checkin_id ?? '',
      }];
    case 'filing':
      // The visit's day as a one-day window, so a company's filings are found by the day they cover.
      return [{
        ...base,
        enterprise_id: event.enterprise_id,
        window_start: event.visit_date,
        window_end: event.visit_date,
        plan_id: event.plan_id ?? '',
        filing_kind: event.kind,
        filed_with: event.filed_with,
        approved_by: event.approved_by ?? '',
      }];
    case 'notice':
      // The day noticed as a one-day window, like a filing's visit day.
      return [{
        ...base,
        enterprise_id: event.enterprise_id,
        officer_ids: event.officer_ids,
        matters: event.matters,
        window_start: event.visit_date,
        window_end: event.visit_date,
        plan_id: event.plan_id ?? '',
        channel: event.channel ?? '',
      }];
    case 'evaluation':
      return [{
        ...base,
        enterprise_id: event.enterprise_id,
        score: event.score,
        channel: event.channel,
      }];
  }
}

const time = (rfc3339: string) => toClickHouseTime(new Date(rfc3339));
