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

/** Samples this process's RSS every 250 ms; `peak()` samples now and gives the peak so far, `stop()` ends it and gives the peak. */
export function sampleRss() {
  let peak = 0;
  const sample = () => (peak = Math.max(peak, process.memoryUsage().rss));
  const timer = setInterval(sample, 250);
  return { peak: () => sample(), stop: () => (clearInterval(timer), sample()) };
}
