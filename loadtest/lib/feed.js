/**
 * What a k6 feed listener decides (loadtest/qingjian.js): when it closes, how
 * long it waits before reconnecting, and which of its city's alerts it missed.
 * Plain JavaScript with no imports, because k6 runs it in its own engine.
 */
import { seconds } from './traffic.js';

/** Reconnect backoff: 0.5 s doubling per failure in a row, capped at 10 s, with jitter (as the console's). */
const BACKOFF_FIRST_S = 0.5;
const BACKOFF_MAX_S = 10;
/** How long after the scenario's end a listener closes: past it, so k6 starts no new iteration (a reconnect). */
const CLOSE_AFTER_END_MS = 1000;
/** k6's default gracefulStop. */
const DEFAULT_GRACEFUL_STOP = '30s';

/**
 * When a listener of the feed scenario closes (ms): just after the scenario's end, within its gracefulStop,
 * so the iteration ends on its own once k6 has stopped starting new ones.
 */
export function feedCloseAt(scenario, scenarioStartMs) {
  const endsAt = scenarioStartMs + seconds(scenario.duration) * 1000;
  const graceMs = seconds(scenario.gracefulStop || DEFAULT_GRACEFUL_STOP) * 1000;
  return endsAt + Math.min(CLOSE_AFTER_END_MS, graceMs / 2);
}

/** Seconds to wait before reconnect attempt `failures` (1, 2, …) in a row; `random` in [0, 1). */
export function reconnectDelaySeconds(failures, random) {
  const ceiling = Math.min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** Math.max(0, failures - 1));
  return ceiling / 2 + (ceiling / 2) * random;
}

/** The subscribe message: `no-plan` alerts of one city, resuming after the last position seen (null: from now). */
export function subscribeMessage(region, after) {
  return JSON.stringify({ type: 'subscribe', filters: { rule: ['no-plan'], region }, after });
}

/**
 * Alerts of its city a listener missed: per ingest scenario, the city's trigger numbers from 0 to the highest
 * it received that it did not receive. Triggers after the last one it received cannot be told from triggers not
 * yet sent, so they do not count (the verification counts stored alerts).
 */
export function missedAlerts(plan, city, receivedByCode) {
  const regions = plan.traffic.regions;
  let missed = 0;
  for (const code of Object.keys(receivedByCode)) {
    const received = receivedByCode[code];
    let highest = -1;
    for (const number of received) highest = Math.max(highest, number);
    for (let number = 0; number <= highest; number++) {
      if (regions[number % regions.length].slice(0, 4) === city && !received.has(number)) missed++;
    }
  }
  return missed;
}
