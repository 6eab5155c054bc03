/** The chaos suite's table (markdown, as the README shows it) and its JSON. */
import type { Check } from './faults.js';
import type { Verification } from './verify.js';

export interface PhaseResult {
  fault: string;
  title: string;
  /** Events (and requests) the API acknowledged with 202, live or on a retry. */
  eventsAcknowledged: number;
  requests: number;
  requestsRetried: number;
  /** Events a retry was told were duplicates: an unanswered attempt had reached Redis. */
  duplicatesOnRetry: number;
  /** Every answer other than 202, first attempts and retries, by outcome. */
  answers: Record<string, number>;
  answerDetails: Record<string, number>;
  verification: Verification | null;
  /** Fault end → ingest acknowledging again and everything acknowledged until then stored, alerted, ticketed. */
  recoveryMs: number | null;
  /** Traffic stopped and retries acknowledged → queues empty with everything present. */
  drainedMs: number | null;
  notes: string[];
  checks: Check[];
  ok: boolean;
  details: Record<string, unknown>;
  error?: string;
}

const fmt = (n: number) => n.toLocaleString('en-US');
const secs = (ms: number | null) => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`);

export function table(results: readonly PhaseResult[]): string {
  const lines = [
    '| fault | events acknowledged | stored exactly once | alerts expected / found | tickets expected / found | answers other than 202 | recovery | result | notes |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of results) {
    const v = r.verification;
    const stored = v ? `${fmt(v.events.storedOnce)}${v.events.rawRows > v.events.finalRows ? ` (${fmt(v.events.rawRows - v.events.finalRows)} repeated rows folded)` : ''}` : '—';
    const alerts = v ? `${fmt(v.alerts.expected)} / ${fmt(v.alerts.found)}${v.alerts.duplicated ? ` (${v.alerts.duplicated} duplicated)` : ''}` : '—';
    const tickets = v ? `${fmt(v.tickets.expected)} / ${fmt(v.tickets.found)}${v.tickets.duplicated + v.tickets.openedTwice ? ` (${v.tickets.duplicated + v.tickets.openedTwice} duplicated)` : ''}` : '—';
    const answers = Object.entries(r.answers).map(([k, n]) => `${k} ×${fmt(n)}`).join(', ') || 'none';
    const failed = r.checks.filter((c) => !c.ok).map((c) => c.name);
    const result = r.ok ? 'pass' : `**FAIL**: ${failed.join('; ') || r.error}`;
    const notes = [...r.notes];
    if (r.requestsRetried) notes.push(`${r.requestsRetried} requests retried, ${fmt(r.duplicatesOnRetry)} events of them answered duplicate`);
    lines.push(`| ${r.fault} | ${fmt(r.eventsAcknowledged)} | ${stored} | ${alerts} | ${tickets} | ${answers} | ${secs(r.recoveryMs)} | ${result} | ${notes.join('; ')} |`);
  }
  return lines.join('\n');
}
