/**
 * wrk's single-event load, as bench:ingest and bench:baseline run it: one event per request (single-event.lua),
 * `-t1 -c32` (C, closed loop: the Node load client needs a core of its own at 3,000 requests/s, and on a 2-core
 * machine it measures itself). Null when wrk is not installed (`apt-get install wrk`).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createPoster } from './post.js';
// The token the lead is posted with and single-event.lua sends (QINGJIAN_TOKEN in the environment wrk inherits).
import './token.js';
import type { WrkBodies } from './wrk-bodies.js';

export interface WrkFigures {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
}

/** More than wrk sends in a second on this machine (the bare stack about 3,800): no body is sent twice. */
export const BODIES_PER_SECOND = 6_000;

/** Events a request when the lead is sent before wrk starts. */
const LEAD_BATCH = 500;

/**
 * Runs wrk for `seconds` against `url` with these bodies, one per request; their file is written into `dir`. Their lead
 * (wrk-bodies.ts) is posted first in batches, then `afterLead` runs (the ingest benchmark waits for its evaluation).
 */
export async function wrkEvents(url: string, seconds: number, bodies: WrkBodies, dir: string, options: {
  afterLead?: () => Promise<unknown>;
} = {}): Promise<WrkFigures | null> {
  const file = join(dir, `${bodies.idPrefix}-bodies.ndjson`);
  await promisify(execFile)(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'wrk-bodies.ts'), file, JSON.stringify(bodies)]);
  const lead = JSON.parse(readFileSync(`${file}.lead.json`, 'utf8')) as unknown[];
  const poster = createPoster(1);
  try {
    for (let i = 0; i < lead.length; i += LEAD_BATCH) {
      const answer = await poster.post(new URL('/v1/events', url), JSON.stringify(lead.slice(i, i + LEAD_BATCH)));
      if (answer.status !== 202) throw new Error(`POST /v1/events (wrk's lead): ${answer.status} ${answer.text}`);
    }
  } finally {
    poster.close();
  }
  await options.afterLead?.();
  const script = join(import.meta.dirname, 'single-event.lua');
  const out = await promisify(execFile)('wrk', ['-t1', '-c32', `-d${seconds}s`, '--latency', '-s', script, url], {
    env: { ...process.env, QINGJIAN_WRK_BODIES: file },
  }).then(
    (r) => r.stdout,
    (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : Promise.reject(err)),
  );
  if (out === null) return null;
  const ms = (label: string) => {
    const m = new RegExp(`${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    return m ? Number(m[1]) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[m[2]!]! : NaN;
  };
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  if (requests > bodies.count) throw new Error(`wrk sent ${requests} requests for ${bodies.count} bodies: raise BODIES_PER_SECOND`);
  return {
    requests,
    rps: Math.round(Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0)),
    p50Ms: ms('50'), p99Ms: ms('99'),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
  };
}
