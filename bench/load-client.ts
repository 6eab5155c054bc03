/**
 * The load side of the ingest benchmark, in its own process so the service's
 * RSS and CPU are measured alone. Posts demo events over keep-alive HTTP and
 * prints one JSON line with what it saw.
 */
import { loadEvents } from './load-events.js';
import { createPoster } from './post.js';

export interface LoadPlan {
  url: string;
  mode: 'batch' | 'single';
  events: number;
  batchSize: number;
  /** batch: requests in flight; single: target requests per second. */
  concurrency: number;
  ratePerSecond: number;
  idPrefix: string;
  seed: number;
}

export interface LoadReport {
  requests: number;
  ok: number;
  errors: number;
  events: number;
  seconds: number;
  latencyMs: { p50: number; p99: number; max: number };
}

const poster = createPoster(512);

function eventBodies(plan: LoadPlan): string[] {
  const events = loadEvents({ seed: plan.seed, count: plan.events, idPrefix: plan.idPrefix });
  const bodies: string[] = [];
  for (let i = 0; i < events.length; i += plan.batchSize) bodies.push(JSON.stringify(events.slice(i, i + plan.batchSize)));
  return bodies;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function run(plan: LoadPlan): Promise<LoadReport> {
  const url = new URL('/v1/events', plan.url);
  const bodies = eventBodies(plan);
  const latencies: number[] = [];
  let ok = 0;
  let errors = 0;
  const send = async (body: string) => {
    const started = performance.now();
    const { status } = await poster.post(url, body);
    latencies.push(performance.now() - started);
    if (status === 202) ok++;
    else errors++;
  };

  const started = performance.now();
  if (plan.mode === 'batch') {
    let next = 0;
    await Promise.all(Array.from({ length: plan.concurrency }, async () => {
      while (next < bodies.length) await send(bodies[next++]!);
    }));
  } else {
    // Open model: requests start on a fixed schedule whatever the latency.
    const inFlight: Promise<void>[] = [];
    const tickMs = 10;
    const perTick = plan.ratePerSecond * tickMs / 1000;
    let due = 0;
    let next = 0;
    while (next < bodies.length) {
      due += perTick;
      while (due >= 1 && next < bodies.length) {
        inFlight.push(send(bodies[next++]!));
        due -= 1;
      }
      const target = started + ((next / plan.ratePerSecond) * 1000);
      await new Promise((r) => setTimeout(r, Math.max(0, target - performance.now())));
    }
    await Promise.all(inFlight);
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    requests: bodies.length, ok, errors, events: plan.events, seconds: round(seconds),
    latencyMs: { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), max: round(latencies.at(-1) ?? 0) },
  };
}

const plan = JSON.parse(process.argv[2] ?? '{}') as LoadPlan;
run(plan).then((report) => {
  process.stdout.write(`${JSON.stringify(report)}\n`);
  poster.close();
});
