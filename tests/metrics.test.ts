import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkin, complaint, creditCode, MID_MONTH_WEEK_AGO, shanghaiAt } from './support/fixtures.js';
import { connectFeed, type FeedClient } from './support/feed-client.js';
import { scrape, type Scrape } from './support/prometheus.js';
import { eventually, get, post, put, startTestService, type TestService } from './support/service.js';

// /metrics of a real service after real traffic: counts must equal what happened, labels must stay bounded.
let service: TestService;
let feed: FeedClient;
// A 烟台 company: no-plan holds there, and complaints there get a 12345 ticket.
const company = creditCode('370602', 4242);
const OFFICER = '370600-SCJG-001';
// The rules in force in 烟台 (rules/regions.yaml), and those that are not: a company is evaluated only by the former.
const RULES = ['complaint-received', 'entry-without-scan', 'low-satisfaction', 'no-plan'];
const NOT_IN_FORCE = [
  'abnormal-duration', 'advance-notice', 'annual-cap', 'exit-without-scan', 'frequent-visits', 'leader-visit-unfiled',
  'onsite-after-clean-offsite', 'quiet-period', 'result-overdue',
];
const QUEUES = ['store-events', 'evaluate-events', 'alert-timers', 'hotline', 'plan-checks'];

const metrics = () => scrape(`${service.url}/metrics`);

beforeAll(async () => {
  service = await startTestService({ STORE_BATCH_WAIT_MS: '20', RULES_WATCH: 'false', METRICS_SAMPLE_MS: '200' });
  feed = await connectFeed(service.url);
  feed.subscribe({}, null);
  await feed.next((m) => m.type === 'caught_up', 10_000, 'caught_up');
  expect((await put(`${service.url}/v1/enterprises`, { enterprise_id: company, name: '指标测试企业', region: '370602', credit_grade: 'C' })).status).toBe(200);
  // An unplanned visit (no-plan alert), a complaint (a hotline ticket), and one retried event.
  const visit = checkin({
    enterprise_id: company, occurred_at: shanghaiAt(MID_MONTH_WEEK_AGO), region: '370602', source: 'yantai-platform', agency_id: '370600-SCJG', officer_ids: [OFFICER],
  });
  expect((await post(`${service.url}/v1/events`, [visit, complaint({ enterprise_id: company, region: '370602' })])).status).toBe(202);
  expect((await post(`${service.url}/v1/events`, [visit])).status).toBe(202);
  await get(`${service.url}/v1/alerts/no-such-alert-${company}`);
  await get(`${service.url}/probe/${company}`);
  await feed.next((m) => m.type === 'alert' && m.alert.rule_id === 'no-plan', 20_000, 'no-plan alert');
}, 60_000);

afterAll(async () => {
  feed?.ws.terminate();
  await service?.dispose();
});

describe('GET /metrics', () => {
  it('counts accepted and duplicate events by type, and times each one from accepted to stored', async () => {
    const m = await eventually(async () => {
      const s = await metrics();
      return s.value('qingjian_event_store_lag_seconds_count') >= 2 ? s : undefined;
    }, 20_000, 'events stored');
    expect(m.value('qingjian_events_accepted_total', { type: 'checkin' })).toBe(1);
    expect(m.value('qingjian_events_accepted_total', { type: 'complaint' })).toBe(1);
    expect(m.value('qingjian_events_duplicate_total', { type: 'checkin' })).toBe(1);
    expect(m.value('qingjian_event_store_lag_seconds_count')).toBe(2);
    expect(m.value('qingjian_event_store_lag_seconds_sum')).toBeGreaterThan(0);
  });

  it('labels HTTP requests by the route pattern that answered, never by the ids in the path', async () => {
    const m = await metrics();
    expect(m.value('qingjian_http_requests_total', { method: 'POST', route: '/v1/events', status: '202' })).toBe(2);
    expect(m.value('qingjian_http_requests_total', { method: 'GET', route: '/v1/alerts/:id', status: '404' })).toBe(1);
    expect(m.value('qingjian_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(m.value('qingjian_http_request_duration_seconds_count', { route: '/v1/events' })).toBe(2);
    const text = await (await fetch(`${service.url}/metrics`)).text();
    expect(text).not.toContain(company);
    expect(text).not.toContain(OFFICER);
  });

  it('counts the evaluation of every rule in force, and the alert raised, by rule and severity', async () => {
    // A delivery counts what it delivered once the journal holds it (src/delivery), so the feed may show the alert
    // before the count is made (as, I take it, one CI run saw): wait for the count, then check it is exactly one.
    const m = await eventually(async () => {
      const s = await metrics();
      return s.samples.some((x) => x.name === 'qingjian_alerts_raised_total' && x.labels.rule === 'no-plan') ? s : undefined;
    }, 10_000, 'the no-plan alert counted');
    for (const rule of RULES) {
      expect(m.value('qingjian_rule_evaluations_total', { rule }), rule).toBeGreaterThan(0);
      expect(m.value('qingjian_rule_evaluation_duration_seconds_count', { rule })).toBe(m.value('qingjian_rule_evaluations_total', { rule }));
    }
    for (const rule of NOT_IN_FORCE) expect(m.value('qingjian_rule_evaluations_total', { rule }), rule).toBe(0);
    const raised = m.samples.filter((s) => s.name === 'qingjian_alerts_raised_total' && s.labels.rule === 'no-plan');
    expect(raised).toHaveLength(1);
    expect(raised[0]!.value).toBe(1);
    expect(['low', 'medium', 'high', 'critical']).toContain(raised[0]!.labels.severity);
    expect(m.value('qingjian_alert_changes_total', { rule: 'no-plan', action: 'raised' })).toBe(1);
  });

  it('reports the feed: connected clients and the messages sent to them', async () => {
    // A message counted as sent may still be on its way to the client.
    const m = await eventually(async () => {
      const s = await metrics();
      return s.value('qingjian_feed_messages_sent_total') === feed.messages.length ? s : undefined;
    }, 10_000, 'every message sent received');
    expect(m.value('qingjian_feed_clients')).toBe(1);
    expect(m.value('qingjian_feed_clients_dropped_total')).toBe(0);
  });

  it('samples every queue and the tickets by state in the background', async () => {
    // Sampled, so wait for a sample taken after both the ticket and the no-plan alert's escalation timer existed.
    const m: Scrape = await eventually(async () => {
      const s = await metrics();
      return s.value('qingjian_tickets') >= 1 && s.value('qingjian_queue_jobs', { queue: 'alert-timers', state: 'delayed' }) >= 1 ? s : undefined;
    }, 20_000, 'the complaint ticket and the escalation timer sampled');
    for (const queue of QUEUES) {
      for (const state of ['waiting', 'active', 'delayed', 'failed']) {
        expect(m.samples.some((s) => s.name === 'qingjian_queue_jobs' && s.labels.queue === queue && s.labels.state === state), `${queue} ${state}`).toBe(true);
      }
      expect(m.samples.some((s) => s.name === 'qingjian_queue_oldest_job_age_seconds' && s.labels.queue === queue)).toBe(true);
    }
    expect(m.value('qingjian_tickets', { state: 'new' })).toBe(1);
    expect(m.types.get('qingjian_ticket_sla_breaches_total')).toBe('counter');
    expect(m.types.get('qingjian_queue_jobs_failed_total')).toBe('counter');
  });

  it('includes the process metrics and says which version runs in which role', async () => {
    const m = await metrics();
    expect(m.value('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(m.types.get('nodejs_eventloop_lag_p99_seconds')).toBe('gauge');
    expect(m.samples.find((s) => s.name === 'qingjian_build_info')?.labels).toMatchObject({ role: 'all', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });
});
