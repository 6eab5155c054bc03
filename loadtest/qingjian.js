/**
 * The Qingjian load test for k6 (https://k6.io). One run, one clock:
 *   feed           live-feed listeners (WebSocket), measuring event → alert latency
 *   ingest_single  one event per POST /v1/events, constant arrival rate
 *   ingest_batch   `traffic.batch_size` events per POST, constant arrival rate
 *   reads          alert lists, a company's timeline, the 12345 ticket queue
 * Rates, durations and thresholds come from the scenario file (SCENARIO,
 * default ./scenario.json); `npm run load` drives the same file from Node.
 *
 *   k6 run -e BASE_URL=http://localhost:8080 -e TOKEN=qjt_… loadtest/qingjian.js
 *
 * k6 exits 99 when a threshold fails. See loadtest/README.md.
 */
import http from 'k6/http';
import ws from 'k6/ws';
import exec from 'k6/execution';
import { Counter, Trend } from 'k6/metrics';
import { createTraffic, listenerRegion, newRun, outcomeCounts, scenarioSeconds, seconds, triggerSentAt } from './lib/traffic.js';
import { formatSummary } from './lib/summary.js';

const plan = JSON.parse(open(__ENV.SCENARIO || './scenario.json'));
const BASE_URL = (__ENV.BASE_URL || 'http://localhost:8080').replace(/\/$/, '');
const SUMMARY_FILE = __ENV.SUMMARY || 'loadtest/results/summary.json';
// One token for everything (an admin's), or one per role: ingest, discipline (feed and alerts), hotline (tickets).
const tokenFor = (role) => __ENV[`${role}_TOKEN`] || __ENV.TOKEN;
const headers = (role, json) => ({ authorization: `Bearer ${tokenFor(role)}`, ...(json ? { 'content-type': 'application/json' } : {}) });

export const options = {
  ...plan.options,
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'count'],
};

const alertLatency = new Trend('alert_latency', true);
const alertsReceived = new Counter('alerts_received');
const feedConnectFailed = new Counter('feed_connect_failed');
const sent = { events: new Counter('events_sent'), triggers: new Counter('triggers_sent'), complaints: new Counter('complaints_sent') };
const acked = { events: new Counter('events_acked'), triggers: new Counter('triggers_acked'), complaints: new Counter('complaints_acked') };

const REFERENCE_CHUNK = 5000;

export function setup() {
  const run = newRun(Date.now(), Math.random());
  const { agencies, enterprises } = createTraffic(plan, run).referenceData();
  put('/v1/agencies', agencies);
  for (let i = 0; i < enterprises.length; i += REFERENCE_CHUNK) put('/v1/enterprises', enterprises.slice(i, i + REFERENCE_CHUNK));
  const durations = Object.fromEntries(Object.entries(plan.options.scenarios).map(([name, s]) => [name, scenarioSeconds(s)]));
  return { run, durations };
}

function put(path, items) {
  const res = http.put(`${BASE_URL}${path}`, JSON.stringify(items), { headers: headers('INGEST', true), tags: { name: 'setup' } });
  if (res.status !== 200) exec.test.abort(`setup: PUT ${path} answered ${res.status}: ${res.body}`);
}

let traffic = null;
const trafficOf = (run) => traffic || (traffic = createTraffic(plan, run));

function ingest(name, data) {
  const events = trafficOf(data.run).iteration(name, exec.scenario.iterationInTest, Date.now());
  const body = JSON.stringify(name === 'ingest_single' ? events[0] : events);
  const res = http.post(`${BASE_URL}/v1/events`, body, { headers: headers('INGEST', true), tags: { name: 'events' } });
  const counts = outcomeCounts(events, traffic);
  for (const key of Object.keys(sent)) sent[key].add(counts[key]);
  if (res.status === 202) for (const key of Object.keys(acked)) acked[key].add(counts[key]);
}

export function ingestSingle(data) {
  ingest('ingest_single', data);
}

export function ingestBatch(data) {
  ingest('ingest_batch', data);
}

export function reads(data) {
  const [name, path] = trafficOf(data.run).read(exec.scenario.iterationInTest);
  http.get(`${BASE_URL}${path}`, { headers: headers(name === 'tickets' ? 'HOTLINE' : 'READ'), tags: { name } });
}

/** A listener holds one connection until the scenario ends (or reconnects, counted, if it drops). */
export function feed(data) {
  const run = data.run;
  const scenario = plan.options.scenarios.feed;
  const endsAt = exec.scenario.startTime + seconds(scenario.duration) * 1000;
  const region = listenerRegion(plan, exec.vu.idInTest);
  const res = ws.connect(`${BASE_URL.replace(/^http/, 'ws')}/v1/alerts/stream`, { headers: headers('FEED') }, (socket) => {
    socket.on('open', () => {
      socket.send(JSON.stringify({ type: 'subscribe', filters: { rule: ['no-plan'], region }, after: null }));
    });
    socket.on('message', (text) => {
      const receivedAt = Date.now();
      const message = JSON.parse(text);
      if (message.type !== 'alert' || message.action !== 'raised') return;
      const sentAt = triggerSentAt(message.alert);
      // This run's triggers only: its company nonce, sent after it began.
      if (message.alert.enterprise_id.slice(8, 10) !== run.nonce || sentAt < run.started_at) return;
      alertLatency.add(receivedAt - sentAt);
      alertsReceived.add(1);
    });
    socket.setTimeout(() => socket.close(), Math.max(1000, endsAt - Date.now() - 1000));
  });
  if (!res || res.status !== 101) feedConnectFailed.add(1);
}

export function handleSummary(data) {
  return { stdout: formatSummary(data), [SUMMARY_FILE]: JSON.stringify(data, null, 2) };
}
