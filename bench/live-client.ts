/**
 * The load side of the rules benchmark, in its own process (as load-client.ts
 * is for the ingest benchmark) so the service's RSS and CPU are measured
 * alone. Reads the live events the benchmark wrote (NDJSON, in the order to
 * send them) and, for each `run` message, posts the next rate × seconds of
 * them at a constant rate: open model, one request per tick whatever the
 * latency, each request holding the events due by then.
 */
import { readFileSync } from 'node:fs';
import { createPoster } from './post.js';

export interface LivePhasePlan {
  rate: number;
  seconds: number;
  tickMs: number;
}

export interface LivePhaseReport {
  /** Epoch ms of the first request and of the last one sent. */
  startedAt: number;
  sentAt: number;
  events: number;
  requests: number;
  ok: number;
  errors: number;
  /** From the 202 answers. */
  accepted: number;
  duplicates: number;
  /** Events sent per second of the sending schedule. */
  achievedRate: number;
  /** Events the phase wanted but the file did not hold any more. */
  missing: number;
  latencyMs: { p50: number; p99: number; max: number };
  firstError: string | null;
}

export type ToClient = { type: 'run'; plan: LivePhasePlan } | { type: 'exit' };
export type FromClient =
  | { type: 'ready'; events: number }
  | { type: 'sent'; at: number }
  | { type: 'done'; report: LivePhaseReport };

const poster = createPoster(256);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const round = (n: number) => Math.round(n * 10) / 10;

const [baseUrl, file] = [process.argv[2]!, process.argv[3]!];
const url = new URL('/v1/events', baseUrl);
const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
let next = 0;

async function runPhase(plan: LivePhasePlan): Promise<LivePhaseReport> {
  // Bodies are built before the clock starts: the client should spend its core on sending.
  const ticks = Math.round((plan.seconds * 1000) / plan.tickMs);
  const wanted = Math.round(plan.rate * plan.seconds);
  const bodies: Array<{ body: string; events: number }> = [];
  let taken = 0;
  for (let k = 0; k < ticks; k++) {
    const due = Math.min(wanted, Math.round((plan.rate * (k + 1) * plan.tickMs) / 1000)) - taken;
    const slice = lines.slice(next, next + due);
    next += slice.length;
    taken += slice.length;
    if (slice.length > 0) bodies.push({ body: `[${slice.join(',')}]`, events: slice.length });
    else bodies.push({ body: '', events: 0 });
  }

  const latencies: number[] = [];
  const report = { ok: 0, errors: 0, accepted: 0, duplicates: 0, requests: 0, events: 0, firstError: null as string | null };
  const send = async (body: string, events: number) => {
    report.requests++;
    report.events += events;
    const started = performance.now();
    const res = await poster.post(url, body);
    latencies.push(performance.now() - started);
    if (res.status === 202) {
      report.ok++;
      const answer = JSON.parse(res.text) as { accepted: number; duplicates: number };
      report.accepted += answer.accepted;
      report.duplicates += answer.duplicates;
    } else {
      report.errors++;
      report.firstError ??= `${res.status} ${res.text.slice(0, 300)}`;
    }
  };

  const inFlight: Promise<void>[] = [];
  const startedAt = Date.now();
  const started = performance.now();
  for (let k = 0; k < bodies.length; k++) {
    const target = started + k * plan.tickMs;
    const wait = target - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const { body, events } = bodies[k]!;
    if (events > 0) inFlight.push(send(body, events));
  }
  const sentAt = Date.now();
  process.send!({ type: 'sent', at: sentAt } satisfies FromClient);
  await Promise.all(inFlight);
  latencies.sort((a, b) => a - b);
  const seconds = Math.max(plan.tickMs, sentAt - startedAt + plan.tickMs) / 1000;
  return {
    ...report,
    startedAt,
    sentAt,
    achievedRate: Math.round(report.events / seconds),
    missing: wanted - taken,
    latencyMs: { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), max: round(latencies.at(-1) ?? 0) },
  };
}

process.on('message', (message: ToClient) => {
  if (message.type === 'exit') {
    poster.close();
    process.disconnect();
    return;
  }
  void runPhase(message.plan).then((report) => process.send!({ type: 'done', report } satisfies FromClient));
});
process.send!({ type: 'ready', events: lines.length } satisfies FromClient);
