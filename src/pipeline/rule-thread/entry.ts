import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread running `file` (a path without its extension, beside this module). Compiled (dist/),
 * that is the .js file. Run from source (tsx, vitest), it is the .ts file, and Node 20 gives a worker none of
 * the loader hooks that let the main thread import TypeScript: the thread registers tsx's own first.
 */
export function startThread(file: string, name: string): Worker {
  if (import.meta.url.endsWith('.js')) return new Worker(new URL(`${file}.js`, import.meta.url), { name });
  const source = JSON.stringify(new URL(`${file}.ts`, import.meta.url).href);
  return new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${source}); })`, { eval: true, name });
}
