/**
 * k6's arrival-rate executors (open model): iterations start on a schedule
 * whatever the latency of earlier ones. An iteration that is due while
 * `maxVUs` iterations are still running is dropped and counted, as k6 counts
 * `dropped_iterations`. Iterations are numbered in the order they start, like
 * `exec.scenario.iterationInTest`.
 */
import { seconds, type ScenarioOptions } from '../lib/traffic.js';

const TICK_MS = 2;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Iterations due by `t` seconds into the scenario: the integral of its rate. */
export function dueBy(scenario: ScenarioOptions, t: number): number {
  const unit = seconds(scenario.timeUnit ?? '1s');
  if (scenario.executor === 'constant-arrival-rate') return (scenario.rate! / unit) * Math.min(t, seconds(scenario.duration!));
  if (scenario.executor !== 'ramping-arrival-rate') throw new Error(`not an arrival-rate executor: ${scenario.executor}`);
  let rate = scenario.startRate ?? 0;
  let elapsed = 0;
  let total = 0;
  for (const stage of scenario.stages!) {
    const length = seconds(stage.duration);
    const span = Math.min(length, Math.max(0, t - elapsed));
    // Rate moves linearly from `rate` to the target across the stage.
    const rateAtSpan = rate + ((stage.target - rate) * span) / length;
    total += ((rate + rateAtSpan) / 2) * span;
    elapsed += length;
    rate = stage.target;
    if (t <= elapsed) break;
  }
  return total / unit;
}

export function durationOf(scenario: ScenarioOptions): number {
  return scenario.stages ? scenario.stages.reduce((s, st) => s + seconds(st.duration), 0) : seconds(scenario.duration!);
}

export interface ArrivalOutcome {
  started: number;
  dropped: number;
}

/**
 * Runs one arrival-rate scenario from `clockStart` (ms, shared by every
 * scenario) plus its startTime; resolves when its last iteration has ended.
 */
export async function runArrivalRate(
  scenario: ScenarioOptions, clockStart: number, iterate: (i: number) => Promise<void>, onDropped: () => void,
): Promise<ArrivalOutcome> {
  const begins = clockStart + seconds(scenario.startTime ?? '0s') * 1000;
  const length = durationOf(scenario);
  const maxVUs = scenario.maxVUs ?? scenario.preAllocatedVUs ?? 1;
  const running = new Set<Promise<void>>();
  let started = 0;
  let dropped = 0;
  let scheduled = 0;
  await sleep(Math.max(0, begins - Date.now()));
  for (;;) {
    const t = (Date.now() - begins) / 1000;
    const due = Math.floor(dueBy(scenario, Math.min(t, length)));
    for (; scheduled < due; scheduled++) {
      if (running.size >= maxVUs) {
        dropped++;
        onDropped();
        continue;
      }
      const iteration = iterate(started++).catch(() => {}).finally(() => running.delete(iteration));
      running.add(iteration);
    }
    if (t >= length) break;
    await sleep(TICK_MS);
  }
  await Promise.all(running);
  return { started, dropped };
}
