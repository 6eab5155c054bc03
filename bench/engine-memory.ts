/**
 * The embedded engine's own memory, beside the process's RSS: what its allocator (jemalloc, separate from Node's)
 * holds resident, what it has handed out, and what the engine's tracker counts. Sampled once a second during a
 * benchmark; the peak of each is kept. Tells "the rest" of a peak RSS split (bench/profilers.ts) apart.
 */
import type { Storage } from '../src/storage/port.js';
import { toMiB } from './profilers.js';

export interface EngineMemory {
  /** jemalloc's resident pages: allocated, plus freed pages not yet returned, plus its metadata. */
  residentMiB: number;
  allocatedMiB: number;
  /** The engine's MemoryTracking metric (its queries, inserts, merges and caches). */
  trackedMiB: number;
  /** Held by the merges running at the sample. */
  mergesMiB: number;
}

async function read(storage: Storage): Promise<EngineMemory> {
  const [stats] = await storage.query<{ stats: string }>('SELECT stats FROM system.jemalloc_stats');
  const [tracked] = await storage.query<{ value: string }>("SELECT value FROM system.metrics WHERE metric = 'MemoryTracking'");
  const [merges] = await storage.query<{ bytes: string }>('SELECT sum(memory_usage) AS bytes FROM system.merges');
  const summary = /Allocated: (\d+), active: \d+, metadata: \d+ [^,]*,[^,]*, rtree \d+\), resident: (\d+)/.exec(stats?.stats ?? '');
  return {
    residentMiB: toMiB(Number(summary?.[2] ?? NaN)), allocatedMiB: toMiB(Number(summary?.[1] ?? NaN)),
    trackedMiB: toMiB(Number(tracked?.value ?? NaN)),
    mergesMiB: toMiB(Number(merges?.bytes ?? NaN)),
  };
}

export function sampleEngineMemory(storage: Storage) {
  const peak: EngineMemory = { residentMiB: 0, allocatedMiB: 0, trackedMiB: 0, mergesMiB: 0 };
  const sample = async () => {
    const now = await read(storage);
    for (const key of Object.keys(peak) as (keyof EngineMemory)[]) peak[key] = Math.max(peak[key], now[key]);
  };
  // A sample that fails between phases is skipped: `peak()` samples again and throws what failed.
  const timer = setInterval(() => void sample().catch(() => {}), 1000);
  return {
    /** The peaks so far, after a sample taken now. */
    peak: async () => (await sample(), { ...peak }),
    stop: () => clearInterval(timer),
  };
}
