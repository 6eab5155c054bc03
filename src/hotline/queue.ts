import type { Queue } from 'bullmq';
import type { Alert } from '../alerts/model.js';
import type { Event } from '../ingest/schema.js';
import type { HotlineJob } from '../queues/index.js';
import { draftTicketId, type Priority, type SlaKind, type TicketDraft } from './model.js';

/**
 * What goes into the `hotline` queue: opening tickets, SLA deadlines and
 * claim leases. Job ids are derived from the ticket and the instant, so a
 * retried or repeated enqueue adds nothing, and delayed jobs (deadlines,
 * leases) survive restarts. BullMQ job ids may not contain ':'.
 */
export type HotlineQueue = Queue<HotlineJob>;

type Complaint = Extract<Event, { type: 'complaint' }>;

const COMPLAINT_TITLES: Record<Complaint['category'], { zh: string; en: string }> = {
  no_scan: { zh: '检查人员未亮码入企', en: 'inspectors entered without scanning' },
  frequent: { zh: '检查过于频繁', en: 'too frequent inspections' },
  no_plan: { zh: '检查未报备', en: 'inspection without a filed plan' },
  quiet_period: { zh: '安静期内入企检查', en: 'inspection during the quiet period' },
  misconduct: { zh: '执法人员行为不当', en: 'inspector misconduct' },
  other: { zh: '其他问题', en: 'other matter' },
};

function complaintDraft(complaint: Complaint): TicketDraft {
  const title = COMPLAINT_TITLES[complaint.category];
  return {
    source: 'complaint',
    source_id: complaint.id,
    alert_id: null,
    region: complaint.region,
    enterprise_id: complaint.enterprise_id,
    agency_id: complaint.agency_id ?? '',
    category: complaint.category,
    title: { zh: `企业投诉：${title.zh}`, en: `Complaint: ${title.en}` },
    description: complaint.text,
    priority: 'normal',
    complainant: complaint.complainant ? { name: complaint.complainant.name ?? '', phone: complaint.complainant.phone } : null,
  };
}

function alertDraft(alert: Alert): TicketDraft {
  const priority: Priority = alert.severity === 'high' || alert.severity === 'critical' ? 'high' : 'normal';
  return {
    source: 'alert',
    source_id: alert.id,
    alert_id: alert.id,
    region: alert.region,
    enterprise_id: alert.enterprise_id,
    agency_id: alert.agency_id,
    category: alert.rule_id,
    title: alert.title,
    description: alert.message.zh,
    priority,
  };
}

/** Queues one ticket per stored complaint; returns the ticket ids. */
export async function enqueueComplaintTickets(queue: HotlineQueue, events: readonly Event[]): Promise<string[]> {
  return enqueueOpen(queue, events.flatMap((e) => (e.type === 'complaint' ? [complaintDraft(e)] : [])));
}

/**
 * Queues a ticket for each alert routed to the hotline: active, not silenced,
 * not resolved. One ticket per alert (fingerprint) however often it repeats;
 * returns the ticket ids.
 */
export async function enqueueAlertTickets(queue: HotlineQueue, alerts: readonly Alert[]): Promise<string[]> {
  const routed = alerts.filter((a) =>
    a.channels.includes('hotline') && a.mode === 'active' && a.silenced_by.length === 0 && a.status !== 'resolved');
  return enqueueOpen(queue, routed.map(alertDraft));
}

async function enqueueOpen(queue: HotlineQueue, drafts: readonly TicketDraft[]): Promise<string[]> {
  if (drafts.length === 0) return [];
  const ids = drafts.map(draftTicketId);
  await queue.addBulk(drafts.map((draft, i) => ({
    name: 'open',
    data: { kind: 'open' as const, draft },
    opts: { jobId: `open-${ids[i]}` },
  })));
  return ids;
}

export interface SlaTimer {
  ticketId: string;
  sla: SlaKind;
  /** ISO 8601. */
  dueAt: string;
}

/** Timers at SLA deadlines, in one round trip; one job per ticket, kind and instant however often they are scheduled. */
export async function scheduleSlas(queue: HotlineQueue, timers: readonly SlaTimer[]): Promise<void> {
  if (timers.length === 0) return;
  await queue.addBulk(timers.map(({ ticketId, sla, dueAt }) => {
    const due = Date.parse(dueAt);
    return {
      name: 'sla',
      data: { kind: 'sla' as const, ticket_id: ticketId, sla, due_at: dueAt },
      opts: { jobId: `sla-${sla}-${ticketId}-${due}`, delay: Math.max(0, due - Date.now()) },
    };
  }));
}

/** A timer at the end of a claim's lease, to record its release if nobody renewed it. */
export async function scheduleClaimLapse(queue: HotlineQueue, ticketId: string, claimedUntil: string): Promise<void> {
  const until = Date.parse(claimedUntil);
  await queue.add('claim-lapse', { kind: 'claim-lapse', ticket_id: ticketId, claimed_until: claimedUntil }, {
    jobId: `lapse-${ticketId}-${until}`, delay: Math.max(0, until - Date.now()),
  });
}
