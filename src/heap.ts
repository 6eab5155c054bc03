import { setFlagsFromString } from 'node:v8';

/**
 * Bounds how far V8 lets the heap grow past what its last full collection kept, in percent (0: V8's own choice).
 *
 * V8 sizes the heap it lets garbage fill from the machine's memory and from how fast it collects. On a 24 GiB
 * machine it let `bench:rules` fill the heap to 1,172 MB around a live 294–356 MB before collecting, so the peak
 * RSS was mostly garbage (1.96 GiB). Bounded, collections come more often and cost CPU where the cores are
 * saturated: batched ingest 3,476–3,588 events/s unbounded, 3,039–3,300 at 100%, 2,818–3,315 at 50%; peak RSS
 * (ingest / rules) 1,192–1,212 / 1,962, 886–901 / 1,239, 806–902 / 1,129–1,171 MiB (docs/performance.md). The
 * flag is read at each collection, so it may be set after start.
 */
export function limitHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
