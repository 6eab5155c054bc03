/**
 * Preloaded into the service child of bench/feed.ts (`node --import tsx
 * --import ./bench/feed-probe.ts src/cli.ts start`): answers `memory` over the
 * IPC channel with process.memoryUsage() (after a full GC when asked and
 * --expose-gc is on) and the kernel's VmRSS/VmHWM, so the benchmark reads the
 * heap of the service from outside without touching src/.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProbeMemory {
  type: 'memory';
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  vmRssKiB: number;
  vmHwmKiB: number;
  openFds: number;
  gc: boolean;
}

function status(field: string): number {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  return Number(line?.split(/\s+/)[1] ?? NaN);
}

if (process.send) {
  process.on('message', (message: { type?: string; gc?: boolean }) => {
    if (message?.type !== 'memory') return;
    const collect = (globalThis as { gc?: () => void }).gc;
    if (message.gc && collect) {
      collect();
      collect();
    }
    process.send!({
      type: 'memory', ...process.memoryUsage(), vmRssKiB: status('VmRSS'), vmHwmKiB: status('VmHWM'),
      openFds: readdirSync('/proc/self/fd').length, gc: Boolean(message.gc && collect),
    } satisfies ProbeMemory);
  });
  // The channel must not keep the service alive on its own.
  process.channel?.unref();
}
