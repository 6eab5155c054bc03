/**
 * The Qingjian load test for k6 (https://k6.io), v0.53 or later (loadtest/README.md). One run, one clock:
 *   feed           live-feed listeners (WebSocket), measuring event → alert latency
 *   ingest_single  one event per POST /v1/events, constant arrival rate
 *   ingest_batch   `traffic.batch_size` events per POST, constant arrival rate
 *   reads          alert lists, a company's timeline, the 12345 ticket queue
 * Rates, durations and thresholds come from the scenario file (SCENARIO,
 * default ./scenario.json); `npm run load` drives the same file from Node.
 *
 *   k6 run -e BASE_URL=http://localhost:8080 -e INGEST_TOKEN=qjt_… -e FEED_TOKEN=qjt_… … loadtest/qingjian.js
 *
 * k6 exits 99 when a threshold fails. This file and lib/*.js run in k6's own
 * engine (Sobek), not Node: loadtest/eslint.config.js says what they may not use.
 */
import http from 'k6/http';
import ws from 'k6/ws';
import exec from 'k6/execution';
import { sleep } from 'k6';
import { Counter, Trend } from 'k6/metrics';
import { createTraffic, listenerRegion, newRun, outcomeCounts, requestsPerMinute, scenarioSeconds, triggerOf, triggerSentAt } from './lib/traffic.js';
import { feedCloseAt, missedAlerts, reconnectDelaySeconds, subscribeMessage } from './lib/feed.js';
import { formatSummary } from './lib/summary.js';

const plan = JSON.parse(open(__ENV.SCENARIO || './scenario.json'));
const BASE_URL = (__ENV.BASE_URL || 'http://localhost:8080').replace(/\/$/, '');
const SUMMARY_FILE = __ENV.SUMMARY || 'loadtest/results/summary.json';

/**
 * One token per role (ingest; discipline for the feed and the alert reads; hotline for the ticket queue), each
 * falling back to TOKEN. k6's `-e NAME` without `=value` sets NAME to "", which hides an exported NAME: an empty
 * value counts as unset, and a role with no token stops the run here, naming the variables.
 */
const ROLES = { INGEST: 'ingest', FEED: 'discipline', READ: 'discipline', HOTLINE: 'hotline' };
const TOKENS = Object.fromEntries(Object.keys(ROLES).map((role) => [role, __ENV[`${role}_TOKEN`] || __ENV.TOKEN || '']));
const missing = Object.keys(ROLES).filter((role) => !TOKENS[role]);
if (missing.length > 0) {
  throw new Error(`no token for ${missing.join(', ')}: pass ${missing.map((r) => `-e ${r}_TOKEN=<${ROLES[r]} token>`).join(' ')} `
    + '(or -e TOKEN=<admin token>, see loadtest/README.md); `-e NAME` without =value passes an empty value');
}
const headers = (role, json) => (json ? { authorization: `Bearer ${TOKENS[role]}`, 'content-type': 'application/json' } : { authorization: `Bearer ${TOKENS[role]}` });

export const options = Object.assign({}, plan.options, {
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'count'],
});

const alertLatency = new Trend('alert_latency', true);
const alertsReceived = new Counter('alerts_received');
const feedConnectFailed = new Counter('feed_connect_failed');
const feedDropped = new Counter('feed_dropped');
const feedAlertsMissed = new Counter('feed_alerts_missed');
const sent = { events: new Counter('events_sent'), triggers: new Counter('triggers_sent'), complaints: new Counter('complaints_sent') };
const acked = { events: new Counter('events_acked'), triggers: new Counter('triggers_acked'), complaints: new Counter('complaints_acked') };

const REFERENCE_CHUNK = 5000;

export function setup() {
  const run = newRun(Date.now(), Math.random());
  const { agencies, enterprises } = createTraffic(plan, run).referenceData();
  const limits = { INGEST: rateLimitOf(put('/v1/agencies', agencies)) };
  for (let i = 0; i < enterprises.length; i += REFERENCE_CHUNK) put('/v1/enterprises', enterprises.slice(i, i + REFERENCE_CHUNK));
  if (plan.options.scenarios.reads) {
    limits.READ = rateLimitOf(http.get(`${BASE_URL}/v1/alerts?limit=1`, { headers: headers('READ'), tags: { name: 'setup' } }));
    limits.HOTLINE = rateLimitOf(http.get(`${BASE_URL}/v1/hotline/tickets?limit=1`, { headers: headers('HOTLINE'), tags: { name: 'setup' } }));
  }
  checkRateLimits(limits);
  const durations = Object.fromEntries(Object.entries(plan.options.scenarios).map(([name, s]) => [name, scenarioSeconds(s)]));
  return { run, durations };
}

function put(path, items) {
  const res = http.put(`${BASE_URL}${path}`, JSON.stringify(items), { headers: headers('INGEST', true), tags: { name: 'setup' } });
  if (res.status !== 200) exec.test.abort(`setup: PUT ${path} answered ${res.status}: ${res.body}`);
  return res;
}

/**
 * A token's requests a minute: RateLimit-Policy says how many per window of how many seconds (`200;w=10`, a sixth
 * of the minute's allowance per 10 s), RateLimit-Limit alone is read as a minute's. 0 when the service does not
 * limit the token (no header).
 */
function rateLimitOf(res) {
  if (res.status >= 400) exec.test.abort(`setup: GET ${res.url} answered ${res.status}: ${res.body}`);
  const header = (wanted) => {
    const name = Object.keys(res.headers).find((h) => h.toLowerCase() === wanted);
    return name ? String(res.headers[name]) : null;
  };
  const policy = /^(\d+);\s*w=(\d+)/.exec(header('ratelimit-policy') || '');
  if (policy) return Math.floor((Number(policy[1]) * 60) / Number(policy[2]));
  const limit = header('ratelimit-limit');
  return limit === null ? 0 : Number(limit);
}

/**
 * Tokens are limited per minute (RATE_LIMIT_PER_MINUTE, RATE_LIMIT_INGEST_PER_MINUTE): roles that share a token
 * share its limit. Stop before the load if the scenario needs more than a token may make, rather than fail on
 * 429s a few seconds in (an admin TOKEN for everything meets the people's limit, 1,200 a minute).
 */
function checkRateLimits(limits) {
  const needed = requestsPerMinute(plan);
  const byToken = {};
  for (const role of Object.keys(limits)) {
    const entry = byToken[TOKENS[role]] || (byToken[TOKENS[role]] = { roles: [], needed: 0, limit: limits[role] });
    entry.roles.push(role);
    entry.needed += needed[role];
  }
  for (const entry of Object.values(byToken)) {
    if (entry.limit > 0 && entry.needed > entry.limit) {
      exec.test.abort(`setup: the token of ${entry.roles.join(' and ')} may make ${entry.limit} requests a minute, this scenario makes ${entry.needed}: `
        + 'give each role its own token (-e INGEST_TOKEN=<ingest token> …) or raise the service\'s RATE_LIMIT_* settings');
    }
  }
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

/**
 * A listener: connected from the scenario's start until just after its end (lib/feed.js), so k6 starts no second
 * iteration. A failed handshake or a connection the server closes (4008 slow consumer, 1001 shutdown, a missed
 * heartbeat) is counted, and the listener reconnects after a bounded backoff, resuming after the last position it
 * saw. At the end it counts the alerts of its city it missed.
 */
export function feed(data) {
  const closeAt = feedCloseAt(plan.options.scenarios[exec.scenario.name], exec.scenario.startTime);
  const region = listenerRegion(plan, exec.vu.idInTest);
  const state = { after: null, received: {} };
  let failures = 0;
  while (Date.now() < closeAt) {
    const outcome = listen(data.run, region, state, closeAt);
    if (outcome === 'closed') break;
    if (outcome === 'failed') {
      feedConnectFailed.add(1);
      failures++;
    } else {
      feedDropped.add(1);
      failures = 1;
    }
    sleep(Math.min(reconnectDelaySeconds(failures, Math.random()), Math.max(0, (closeAt - Date.now()) / 1000)));
  }
  feedAlertsMissed.add(missedAlerts(plan, region, state.received));
}

/** One connection: 'closed' (by the listener, at closeAt), 'dropped' (by the server or the network) or 'failed'. */
function listen(run, region, state, closeAt) {
  let closing = false;
  const res = ws.connect(`${BASE_URL.replace(/^http/, 'ws')}/v1/alerts/stream`, { headers: headers('FEED') }, (socket) => {
    socket.on('open', () => socket.send(subscribeMessage(region, state.after)));
    socket.on('message', (text) => {
      const receivedAt = Date.now();
      const message = JSON.parse(text);
      if (message.seq) state.after = message.seq;
      if (message.type !== 'alert' || message.action !== 'raised') return;
      const trigger = triggerOf(run, message.alert);
      const sentAt = triggerSentAt(message.alert);
      // This run's triggers only: its company nonce, sent after it began; once each (a resumed feed may repeat).
      if (!trigger || sentAt < run.started_at) return;
      const received = state.received[trigger.code] || (state.received[trigger.code] = new Set());
      if (received.has(trigger.number)) return;
      received.add(trigger.number);
      alertLatency.add(receivedAt - sentAt);
      alertsReceived.add(1);
    });
    socket.setTimeout(() => {
      closing = true;
      socket.close();
    }, Math.max(0, closeAt - Date.now()));
  });
  // k6 answers a refused or failed handshake with the response it got (status ≠ 101), or status 0 and an error.
  if (!res || res.status !== 101) return 'failed';
  return closing ? 'closed' : 'dropped';
}

export function handleSummary(data) {
  return { stdout: formatSummary(data), [SUMMARY_FILE]: JSON.stringify(data, null, 2) };
}
