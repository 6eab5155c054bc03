/**
 * Per-second records of a run, so figures can be read for any window: a
 * ramping scenario's stages (the knee) or the steady part of a run.
 */
import { Histogram } from './histogram.js';
import type { Sample } from './service.js';

interface Second {
  acked: number;
  http: Histogram;
}

export class Timeline {
  private readonly seconds = new Map<string, Map<number, Second>>();
  readonly latencyBySecond = new Map<number, Histogram>();

  record(scenario: string, at: number, ms: number, acked: number): void {
    let byScenario = this.seconds.get(scenario);
    if (!byScenario) this.seconds.set(scenario, (byScenario = new Map()));
    const second = Math.floor(at / 1000);
    let s = byScenario.get(second);
    if (!s) byScenario.set(second, (s = { acked: 0, http: new Histogram() }));
    s.acked += acked;
    s.http.add(ms);
  }

  /** Events acknowledged per second and HTTP latency of a scenario between two instants (ms). */
  window(scenario: string, from: number, to: number): { ackedPerSecond: number; http: Histogram } {
    const http = new Histogram();
    let acked = 0;
    for (const [second, s] of this.seconds.get(scenario) ?? []) {
      if (second * 1000 >= from && second * 1000 < to) {
        acked += s.acked;
        http.merge(s.http);
      }
    }
    return { ackedPerSecond: acked / ((to - from) / 1000), http };
  }

  /** Event → alert latency of triggers sent between two instants. */
  latency(from: number, to: number): Histogram {
    const h = new Histogram();
    for (const [second, hist] of this.latencyBySecond) if (second * 1000 >= from && second * 1000 < to) h.merge(hist);
    return h;
  }
}

export interface ResourceFigures {
  rssMiB: { median: number; max: number };
  redisMiB: { median: number; max: number };
  /** Share of one core the service used. */
  cpuCores: number;
  /** The most jobs ready or running at once, per queue. */
  maxQueued: Record<string, number>;
  /** The most jobs delayed on purpose at once, per queue. */
  maxDelayed: Record<string, number>;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : 0;
};

export function resources(samples: Sample[], from: number, to: number): ResourceFigures {
  const inside = samples.filter((s) => s.at >= from && s.at <= to && s.rssMiB > 0);
  const first = inside[0];
  const last = inside.at(-1);
  const most = (of: (s: Sample) => Record<string, number>) => {
    const max: Record<string, number> = {};
    for (const s of inside) for (const [q, n] of Object.entries(of(s))) max[q] = Math.max(max[q] ?? 0, n);
    return max;
  };
  return {
    rssMiB: { median: median(inside.map((s) => s.rssMiB)), max: Math.max(0, ...inside.map((s) => s.rssMiB)) },
    redisMiB: { median: median(inside.map((s) => s.redisMiB)), max: Math.max(0, ...inside.map((s) => s.redisMiB)) },
    cpuCores: first && last && last.at > first.at ? (last.cpuSeconds - first.cpuSeconds) / ((last.at - first.at) / 1000) : 0,
    maxQueued: most((s) => s.queues),
    maxDelayed: most((s) => s.delayed),
  };
}
