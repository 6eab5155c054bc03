import { setFlagsFromString } from 'node:v8';

/**
 * Bounds how far V8 lets the heap grow past what its last full collection kept, in percent (0: V8's own choice).
 *
 * V8 sizes the heap it lets garbage fill from the machine's memory and from how fast it collects. On a 24 GiB
 * machine it let `bench:rules` fill the heap to 1,172 MB around a live 294–356 MB before collecting, so the peak
 * RSS was mostly garbage (1.96 GiB; docs/performance.md). At 50% the heap peaked near 565 MB and the RSS at
 * 1.3 GiB, with alert latencies within the spread of runs: a full collection of ~350 MB live costs ~150 ms of
 * incremental marking, mostly on V8's helper threads. The flag is read at each collection, so it may be set after start.
 */
export function limitHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
