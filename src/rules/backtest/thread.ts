import { Worker } from 'node:worker_threads';
import type { EngineEventColumn } from '../../storage/tables/events.js';
import type { CompanyFacts } from '../events.js';
import type { RuleSet } from '../load.js';
import type { SliceJudges, SliceOutcome } from './slice.js';

/**
 * A backtest of many slices has them decoded and judged on a thread of their own while the main thread has the
 * embedded engine read the next ones: decoding rows into events took most of the main thread, and the engine must
 * stay on it (chdb in a worker aborts the process when the worker exits). The thread compiles the rule sets again
 * from the texts they were compiled from (`RuleSet.sources`), so an edit made meanwhile changes nothing.
 */
export interface SliceThreadSpec {
  current: RuleSetAt;
  candidate: RuleSetAt | null;
  ruleId: string;
  anchors: { from: number; to: number };
  now: number;
  agencies: Array<[string, string]>;
  columns: readonly EngineEventColumn[];
}

/** A rule set as the thread compiles it again: its directory and the texts it was compiled from. */
export interface RuleSetAt {
  dir: string;
  sources: Readonly<Record<string, string>>;
}

export const ruleSetAt = (set: RuleSet): RuleSetAt => ({ dir: set.dir, sources: set.sources });

/** Messages to the thread, and its answers. */
export interface SliceRequest {
  id: number;
  bytes: Uint8Array;
  companies: Array<[string, CompanyFacts]>;
}
export type SliceAnswer = { id: number; outcome: SliceOutcome } | { id: number; error: string };
export type ThreadReady = { ready: true } | { ready: false; error: string };

/** Starts the thread; `signal` stops it if it comes before the thread is ready (the start then rejects with it). */
export async function startSliceThread(spec: SliceThreadSpec, signal?: AbortSignal): Promise<SliceJudges> {
  signal?.throwIfAborted();
  const worker = threadOf(spec);
  const waiting = new Map<number, { resolve: (o: SliceOutcome) => void; reject: (err: Error) => void }>();
  let failure: Error | null = null;
  let nextId = 0;
  const fail = (err: Error) => {
    failure ??= err;
    for (const w of waiting.values()) w.reject(failure);
    waiting.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the backtest's slice thread stopped (exit code ${code})`)));

  let onAbort: (() => void) | undefined;
  await new Promise<void>((resolve, reject) => {
    worker.once('message', (m: ThreadReady) => (m.ready ? resolve() : reject(new Error(m.error))));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the backtest's slice thread stopped before it was ready (exit code ${code})`)));
    onAbort = () => reject(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  }).finally(() => {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  });
  worker.on('message', (answer: SliceAnswer) => {
    const w = waiting.get(answer.id);
    waiting.delete(answer.id);
    if ('error' in answer) w?.reject(new Error(answer.error));
    else w?.resolve(answer.outcome);
  });

  return {
    judge(bytes, companies) {
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      // Moved, not copied, when the bytes fill their buffer (the engine's results do); else copied first.
      const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
      const request: SliceRequest = { id, bytes: own, companies: [...companies] };
      return new Promise<SliceOutcome>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.postMessage(request, [own.buffer as ArrayBuffer]);
      });
    },
    async close() {
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}

/**
 * Compiled, the thread's module is the .js file beside this one. Run from source (tsx, vitest), it is the .ts
 * file, and Node 20 gives a worker none of the loader hooks that let the main thread import TypeScript: the thread
 * registers tsx's own first.
 */
function threadOf(spec: SliceThreadSpec): Worker {
  const options = { workerData: spec, name: 'backtest-slices' };
  if (import.meta.url.endsWith('.js')) return new Worker(new URL('./entry.js', import.meta.url), options);
  const source = JSON.stringify(new URL('./entry.ts', import.meta.url).href);
  return new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${source}); })`, { ...options, eval: true });
}
