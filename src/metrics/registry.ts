import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric one process exposes, on a registry of its own (tests run
 * several services in one process). Labels are bounded sets only: routes as
 * declared, event types, rule ids, queue names, states. Never a company,
 * officer or alert id.
 */
export type Metrics = ReturnType<typeof createMetrics>;

export interface FeedStats {
  clients: number;
  sent: number;
  dropped: number;
}

// Latency buckets from 1 ms to 30 s: HTTP answers, evaluations, the accept → stored lag.
const SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createMetrics(options: { role: string; version: string }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  new Gauge({ name: 'qingjian_build_info', help: 'Always 1; the labels say which version runs in which role', labelNames: ['version', 'role'], registers })
    .set({ version: options.version, role: options.role }, 1);

  // The feed keeps its own counters (its benchmark reads them too); they are copied at scrape time.
  let feedStats: (() => FeedStats) | null = null;

  return {
    registry,
    /** Reports this process's feed server at every scrape. */
    observeFeed(stats: () => FeedStats) {
      feedStats = stats;
    },
    httpRequests: new Counter({
      name: 'qingjian_http_requests_total', help: 'HTTP requests answered, by route pattern and status', labelNames: ['method', 'route', 'status'], registers,
    }),
    httpDuration: new Histogram({
      name: 'qingjian_http_request_duration_seconds', help: 'Time to answer an HTTP request', labelNames: ['method', 'route'], buckets: SECONDS, registers,
    }),
    eventsAccepted: new Counter({
      name: 'qingjian_events_accepted_total', help: 'Events acknowledged to clients and queued for storage', labelNames: ['type'], registers,
    }),
    eventsDuplicate: new Counter({
      name: 'qingjian_events_duplicate_total', help: 'Events answered as duplicates of an id already accepted', labelNames: ['type'], registers,
    }),
    storeLag: new Histogram({
      name: 'qingjian_event_store_lag_seconds', help: 'From an event being accepted to its row being written to ClickHouse', buckets: SECONDS, registers,
    }),
    queueJobs: new Gauge({
      name: 'qingjian_queue_jobs', help: 'Jobs in each BullMQ queue by state (sampled)', labelNames: ['queue', 'state'], registers,
    }),
    queueOldestAge: new Gauge({
      name: 'qingjian_queue_oldest_job_age_seconds', help: 'How long the oldest job ready to run has waited (sampled; 0 when none)', labelNames: ['queue'], registers,
    }),
    jobsFailed: new Counter({
      name: 'qingjian_queue_jobs_failed_total', help: 'Job attempts that failed in this process (they are retried)', labelNames: ['queue'], registers,
    }),
    ruleEvaluations: new Counter({
      name: 'qingjian_rule_evaluations_total', help: 'Companies evaluated, per rule', labelNames: ['rule'], registers,
    }),
    ruleDuration: new Histogram({
      name: 'qingjian_rule_evaluation_duration_seconds', help: 'Time one rule takes to decide one company',
      labelNames: ['rule'], buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1], registers,
    }),
    historyReads: new Counter({
      name: 'qingjian_evaluation_history_reads_total', help: 'Companies whose events an evaluation took from the process\'s memory or read from ClickHouse', labelNames: ['from'], registers,
    }),
    alertsRaised: new Counter({
      name: 'qingjian_alerts_raised_total', help: 'Alerts raised (new or raised again), per rule and severity', labelNames: ['rule', 'severity'], registers,
    }),
    alertChanges: new Counter({
      name: 'qingjian_alert_changes_total', help: 'Alert revisions delivered, by what changed', labelNames: ['rule', 'action'], registers,
    }),
    alertsSuppressed: new Counter({
      name: 'qingjian_alerts_suppressed_total', help: 'Alert revisions stored but pushed to nobody, by what held them back (silence, inhibition, a shadow rule, or a record listed for review)', labelNames: ['rule', 'by'], registers,
    }),
    feedClients: new Gauge({
      name: 'qingjian_feed_clients', help: 'WebSocket feed clients connected to this process', registers,
      collect() {
        if (feedStats) this.set(feedStats().clients);
      },
    }),
    feedSent: new Counter({
      name: 'qingjian_feed_messages_sent_total', help: 'Messages written to feed clients (alerts and protocol messages)', registers,
      collect() {
        if (feedStats) setCounter(this, feedStats().sent);
      },
    }),
    feedDropped: new Counter({
      name: 'qingjian_feed_clients_dropped_total', help: 'Feed clients closed for falling behind (close code 4008)', registers,
      collect() {
        if (feedStats) setCounter(this, feedStats().dropped);
      },
    }),
    tickets: new Gauge({ name: 'qingjian_tickets', help: 'Hotline tickets by state (sampled)', labelNames: ['state'], registers }),
    slaBreaches: new Counter({
      name: 'qingjian_ticket_sla_breaches_total', help: 'Hotline tickets that missed a deadline', labelNames: ['sla'], registers,
    }),
  };
}

// A counter mirrored from a monotonic count kept elsewhere.
function setCounter(counter: Counter, total: number): void {
  counter.reset();
  counter.inc(total);
}
