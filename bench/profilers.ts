/** What a benchmark samples of its own process (which runs the service): peak RSS, and V8's profilers through the inspector. */
import { Session as InspectorSession } from 'node:inspector/promises';

/**
 * Starts V8's sampling heap profiler on this process, keeping what the collector has freed since: where the
 * service allocates, garbage included. The returned function stops it and gives the profile.
 */
export async function startAllocationProfile(): Promise<() => Promise<unknown>> {
  const session = new InspectorSession();
  session.connect();
  // Not yet in Node 20's typings of the protocol.
  const keepCollected = { includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as object;
  await session.post('HeapProfiler.startSampling', { samplingInterval: 16_384, ...keepCollected });
  return async () => {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    session.disconnect();
    return profile;
  };
}

/** Starts V8's CPU profiler on this process; the returned function stops it and gives the profile. */
export async function startCpuProfile(): Promise<() => Promise<unknown>> {
  const session = new InspectorSession();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 1000 });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    return profile;
  };
}

/**
 * The glibc arenas this process runs with: RSS figures depend on it (docs/configuration.md). The npm scripts of the
 * benchmarks set it as the image and `npm start` do.
 */
export const allocator = () => (process.env.MALLOC_ARENA_MAX ? `MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX}` : "glibc's default arenas (MALLOC_ARENA_MAX unset)");

/** What the process held at its peak RSS, in MiB: V8's heap (reserved and used), memory outside it that JS objects own, and the rest. */
export interface PeakBreakdown {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  /** Buffers and other memory V8 is told JS objects own (ArrayBuffers included). */
  external: number;
  /** RSS that is neither: code, native allocations (the embedded engine's), stacks, the allocator's free pages. */
  other: number;
}

export const toMiB = (bytes: number) => Math.round(bytes / 1024 / 1024);

/**
 * Samples this process's RSS every 250 ms; `peak()` samples now and gives the peak so far, `stop()` ends it and gives
 * the peak; `breakdown()` splits the peak sample (which part of the process grew).
 */
export function sampleRss() {
  let peak = process.memoryUsage();
  const sample = () => {
    const now = process.memoryUsage();
    if (now.rss > peak.rss) peak = now;
    return peak.rss;
  };
  const timer = setInterval(sample, 250);
  const breakdown = (): PeakBreakdown => ({
    rss: toMiB(peak.rss), heapTotal: toMiB(peak.heapTotal), heapUsed: toMiB(peak.heapUsed), external: toMiB(peak.external),
    other: toMiB(peak.rss - peak.heapTotal - peak.external),
  });
  return { peak: sample, stop: () => (clearInterval(timer), sample()), breakdown };
}
