/**
 * The load side of bench/feed.ts, in its own process: posts the traffic of
 * feed-traffic.ts over keep-alive HTTP at a constant rate (open model: one
 * request per tick whatever the latency) and records when each trigger event
 * was POSTed (epoch ms, sub-millisecond, taken just before the body is written).
 */
import { createTraffic, type TrafficSpec } from './feed-traffic.js';
import { createPoster } from './post.js';

export interface LoadPhase {
  name: string;
  /** Requests [firstRequest, firstRequest + requests), one every tickMs. */
  firstRequest: number;
  requests: number;
  tickMs: number;
}

export interface LoadReport {
  name: string;
  requests: number;
  ok: number;
  errors: number;
  events: number;
  accepted: number;
  duplicates: number;
  /** Epoch ms of the first and the last POST. */
  startedAt: number;
  sentAt: number;
  achievedRate: number;
  /** How late the ticks fired behind their schedule. */
  lagMs: { p50: number; p99: number; max: number };
  httpMs: { p50: number; p99: number; max: number };
  /** Triggers of accepted requests: fresh company → POST time. */
  posted: Array<[string, number]>;
  firstError: string | null;
  cpuMs: number;
}

export type ToLoad = { type: 'run'; phase: LoadPhase } | { type: 'exit' };
export type FromLoad = { type: 'ready' } | { type: 'done'; report: LoadReport };

const [baseUrl, specText] = [process.argv[2]!, process.argv[3]!];
const spec = JSON.parse(specText) as TrafficSpec;
const traffic = createTraffic(spec);
const url = new URL('/v1/events', baseUrl);
const poster = createPoster(64);
const now = () => performance.timeOrigin + performance.now();

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const round = (n: number) => Math.round(n * 10) / 10;
const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1) ?? 0) };
};

async function run(phase: LoadPhase): Promise<LoadReport> {
  // Bodies first: the clock starts once everything is serialised.
  const bodies = Array.from({ length: phase.requests }, (_, i) => {
    const { events, triggers } = traffic.request(phase.firstRequest + i);
    return { body: JSON.stringify(events), events: events.length, triggers };
  });
  const cpu = process.cpuUsage();
  const report = { ok: 0, errors: 0, events: 0, accepted: 0, duplicates: 0, firstError: null as string | null };
  const posted: Array<[string, number]> = [];
  const http: number[] = [];
  const lag: number[] = [];
  const inFlight: Promise<void>[] = [];
  const startedAt = now();
  const started = performance.now();
  let sentAt = startedAt;
  for (let k = 0; k < bodies.length; k++) {
    const target = started + k * phase.tickMs;
    const wait = target - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    lag.push(Math.max(0, performance.now() - target));
    const { body, events, triggers } = bodies[k]!;
    report.events += events;
    inFlight.push((async () => {
      let at = 0;
      const res = await poster.post(url, body, () => (at = now()));
      http.push(now() - at);
      if (res.status === 202) {
        report.ok++;
        const answer = JSON.parse(res.text) as { accepted: number; duplicates: number };
        report.accepted += answer.accepted;
        report.duplicates += answer.duplicates;
        for (const t of triggers) posted.push([t, at]);
      } else {
        report.errors++;
        report.firstError ??= `${res.status} ${res.text.slice(0, 300)}`;
      }
    })());
    sentAt = now();
  }
  await Promise.all(inFlight);
  const used = process.cpuUsage(cpu);
  const seconds = (sentAt - startedAt + phase.tickMs) / 1000;
  return {
    name: phase.name, requests: bodies.length, ...report, startedAt, sentAt, achievedRate: Math.round(report.events / seconds),
    lagMs: summary(lag), httpMs: summary(http), posted, cpuMs: (used.user + used.system) / 1000,
  };
}

process.on('message', (message: ToLoad | { type: string }) => {
  if (message.type !== 'run') {
    poster.close();
    process.disconnect();
    return;
  }
  void run((message as Extract<ToLoad, { type: 'run' }>).phase).then((report) => process.send!({ type: 'done', report } satisfies FromLoad));
});
process.send!({ type: 'ready' } satisfies FromLoad);
