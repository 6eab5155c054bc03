import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { startCpuSplit } from '../bench/cpu-split.js';

// Each spins until /proc counts 400 ms of its own CPU time, so the figures hold however busy the machine is.
const SPIN = `
  const { readFileSync } = require('node:fs');
  const ticks = () => { const s = readFileSync('/proc/thread-self/stat', 'utf8'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return +f[11] + +f[12]; };
  const start = ticks();
  while (ticks() - start < 40) {}
`;

describe("bench/cpu-split: whose the machine's CPU-seconds were", () => {
  it("counts this process's main thread", () => {
    const split = startCpuSplit();
    new Function('require', SPIN)(createRequire(import.meta.url));
    const { mainThread, otherThreads } = split();
    expect(mainThread).toBeGreaterThanOrEqual(0.39);
    expect(otherThreads.reduce((sum, t) => sum + t.seconds, 0)).toBeLessThan(0.2);
  });

  it("counts this process's other threads apart from the main one", async () => {
    const split = startCpuSplit();
    const worker = new Worker(`${SPIN}; require('node:worker_threads').parentPort.postMessage('done');`, { eval: true });
    await new Promise((resolve) => worker.once('message', resolve));
    const { mainThread, otherThreads } = split();
    await worker.terminate();
    expect(otherThreads.reduce((sum, t) => sum + t.seconds, 0)).toBeGreaterThanOrEqual(0.39);
    expect(mainThread).toBeLessThan(0.2);
  });

  it('counts another process under other processes, not this one', async () => {
    const split = startCpuSplit();
    const child = spawn(process.execPath, ['-e', SPIN], { stdio: 'ignore' });
    await new Promise((resolve) => child.once('exit', resolve));
    const { mainThread, otherProcesses } = split();
    expect(otherProcesses).toBeGreaterThanOrEqual(0.39);
    expect(mainThread).toBeLessThan(0.2);
  });
});
