/**
 * Runs the k6 script (loadtest/qingjian.js and the lib/*.js it imports) the way k6 would, as far as this machine
 * can: ES modules in a plain `node:vm` context with no Node globals, made to behave like k6's engine (Sobek) where
 * it differs from V8, and a fake of the k6 modules the script imports that keeps k6's rules (metrics and open() in
 * the init context only, no requests there, setup data passed as JSON, handleSummary in a fresh VU, its files
 * written without creating directories). Every fake's behaviour is read from grafana/k6's sources (named below).
 *
 * `vm.SourceTextModule` needs `--experimental-vm-modules`, so `runK6Script` runs this file in a child process
 * (node --experimental-vm-modules --import tsx) and reads back what happened as JSON.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface FakeResponse {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

/** One feed connection: refused (status ≠ 101), or open, messages, then closed by the server or held until the listener closes. */
export interface FakeConnection {
  status: number;
  messages?: Array<{ afterMs: number; data: unknown }>;
  end?: { by: 'server'; code: number } | { by: 'listener' };
}

export interface K6VmSpec {
  script: string;
  env: Record<string, string>;
  /** The fake clock's start (ms); sleep() and the feed's timers move it. */
  clock: number;
  /** What Math.random returns, so a run's nonce and the backoff's jitter are known. */
  random: number;
  /** Responses by `METHOD /path` (no query); anything else answers 200 with an empty body. */
  http?: Record<string, FakeResponse>;
  feed?: FakeConnection[];
  /** Scenario functions to call after setup, in order. */
  calls?: Array<{ fn: string; scenario: string; iterationInTest?: number; vu?: number }>;
  /** A recorded k6 summary object for handleSummary, and where its files go (k6's working directory). */
  summary?: unknown;
  cwd?: string;
}

export interface K6VmResult {
  initError?: string;
  options?: { thresholds: Record<string, string[]>; scenarios: Record<string, unknown> } & Record<string, unknown>;
  setupData?: { run: { id: string; nonce: string; started_at: number }; durations: Record<string, number> };
  aborted?: string;
  errors: Array<{ fn: string; error: string }>;
  requests: Array<{ method: string; url: string; body: string | null; headers: Record<string, string>; tags: Record<string, string> }>;
  connections: Array<{ url: string; headers: Record<string, string>; sent: string[]; closedWith: number | null; closedAt: number | null }>;
  sleeps: number[];
  samples: Record<string, Array<{ value: number; tags: Record<string, string> }>>;
  /** What handleSummary returned (k6 prints stdout and writes the rest as files under cwd). */
  summaryResult?: Record<string, string>;
  summaryError?: string;
}

/** Runs a spec in a child process with `--experimental-vm-modules`. */
export function runK6Script(spec: K6VmSpec): Promise<K6VmResult> {
  const child = spawn(process.execPath, ['--experimental-vm-modules', '--no-warnings', '--import', 'tsx', fileURLToPath(import.meta.url)], { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(JSON.stringify(spec));
  return new Promise((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`k6 vm harness exited ${code}: ${stderr}`));
      else resolvePromise(JSON.parse(stdout) as K6VmResult);
    });
  });
}

// ------------------------------------------------------------------ the child: k6's engine and modules, faked

/**
 * Where Sobek (the engine of k6 v0.53 … v2.2, vendor/github.com/grafana/sobek) differs from V8, made so here:
 * no Intl, WeakRef, FinalizationRegistry, SharedArrayBuffer, Atomics, WebAssembly, structuredClone, fetch,
 * queueMicrotask; no BigInt before v2.x; Number.prototype.toLocaleString is toString (builtin_number.go), so a
 * locale argument is read as a radix; toLocale*String of Date ignore their arguments (builtin_date.go); no
 * change-array-by-copy methods in v0.53 (builtin_array.go), no Set methods, Object/Map.groupBy,
 * Promise.withResolvers, Array.fromAsync, String isWellFormed/toWellFormed, Iterator helpers.
 */
const SOBEK = `(() => {
  const g = globalThis;
  for (const name of ['Intl', 'WeakRef', 'FinalizationRegistry', 'SharedArrayBuffer', 'Atomics', 'WebAssembly', 'structuredClone',
    'fetch', 'queueMicrotask', 'BigInt', 'BigInt64Array', 'BigUint64Array', 'Iterator', 'console']) delete g[name];
  const method = (object, name, value) => Object.defineProperty(object, name, { value, writable: true, configurable: true, enumerable: false });
  method(Number.prototype, 'toLocaleString', Number.prototype.toString);
  const iso = Date.prototype.toISOString;
  method(Date.prototype, 'toLocaleString', function toLocaleString() { const s = iso.call(this); return s.slice(8, 10) + '/' + s.slice(5, 7) + '/' + s.slice(0, 4) + ', ' + s.slice(11, 19); });
  method(Date.prototype, 'toLocaleDateString', function toLocaleDateString() { const s = iso.call(this); return s.slice(8, 10) + '/' + s.slice(5, 7) + '/' + s.slice(0, 4); });
  method(Date.prototype, 'toLocaleTimeString', function toLocaleTimeString() { return iso.call(this).slice(11, 19); });
  const missing = [[Array.prototype, ['toSorted', 'toReversed', 'toSpliced', 'with']], [Array, ['fromAsync']],
    [String.prototype, ['isWellFormed', 'toWellFormed']], [Object, ['groupBy']], [Map, ['groupBy']], [Promise, ['withResolvers', 'try']],
    [Set.prototype, ['union', 'intersection', 'difference', 'symmetricDifference', 'isSubsetOf', 'isSupersetOf', 'isDisjointFrom']]];
  for (const [object, names] of missing) for (const name of names) delete object[name];
})();`;

class Abort extends Error {}

async function main(): Promise<void> {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const spec = JSON.parse(input) as K6VmSpec;
  const result: K6VmResult = { errors: [], requests: [], connections: [], sleeps: [], samples: {} };
  const clock = { now: spec.clock };
  const feed = [...(spec.feed ?? [])];
  const exec = { scenario: { name: '', startTime: 0, iterationInTest: 0, iterationInInstance: 0, executor: '', progress: 0 }, vu: { idInTest: 0, idInInstance: 0, iterationInScenario: 0, iterationInInstance: 0 } };
  let phase: 'init' | 'vu' = 'init';

  const onlyInit = (what: string) => {
    // k6: "open() can only be called in the init context"; metrics "can only be created in the init context" (k6/metrics metrics.go).
    if (phase !== 'init') throw new Error(`${what} can only be called in the init context`);
  };
  const notInInit = (what: string) => {
    // k6/http: "making requests in the init context is not supported"; k6/ws: ErrWSInInitContext.
    if (phase === 'init') throw new Error(`${what} in the init context is not supported`);
  };

  function instantiate(scriptPath: string) {
    const context = vm.createContext({}, { codeGeneration: { strings: true, wasm: false } });
    vm.runInContext(SOBEK, context);
    const setClock = vm.runInContext(`(clock) => {
      Date.now = function now() { return clock(); };
      Math.random = function random() { return ${Number(spec.random)}; };
    }`, context) as (f: () => number) => void;
    setClock(() => clock.now);
    vm.runInContext(`globalThis.__ENV = ${JSON.stringify(spec.env)}; globalThis.__VU = 0;`, context);
    const scriptDir = dirname(scriptPath);
    // open() resolves a relative path against the script's directory (k6 js/initcontext.go, bundle.go).
    context.open = (path: string) => {
      onlyInit('open()');
      return readFileSync(resolve(scriptDir, path), 'utf8');
    };
    context.console = { log: () => {}, info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };

    const synthetic = (names: Record<string, unknown>, identifier: string) =>
      new vm.SyntheticModule(Object.keys(names), function (this: vm.SyntheticModule) {
        for (const [name, value] of Object.entries(names)) this.setExport(name, value);
      }, { context, identifier });

    const record = (name: string, value: number, tags?: Record<string, string>) => {
      if (typeof value !== 'number' || Number.isNaN(value)) throw new Error(`metric ${name}: add() needs a number, got ${String(value)}`);
      (result.samples[name] ??= []).push({ value, tags: { ...(tags ?? {}) } });
    };
    const metric = () => class {
      constructor(readonly name: string) {
        onlyInit(`new metric ${name}`);
        if (!/^[a-zA-Z_][a-zA-Z0-9_]{0,127}$/.test(name)) throw new Error(`invalid metric name '${name}'`);
      }
      add(value: number, tags?: Record<string, string>) {
        record(this.name, value, tags);
      }
    };

    const response = (method: string, url: string): FakeResponse & { url: string; error: string } => {
      const path = new URL(url).pathname;
      const r = spec.http?.[`${method} ${path}`] ?? { status: 200 };
      return { status: r.status, body: r.body ?? '', headers: r.headers ?? {}, url, error: '' };
    };
    const request = (method: string) => (url: string, ...args: unknown[]) => {
      notInInit(`http.${method.toLowerCase()}`);
      const [body, params] = method === 'GET' ? [null, args[0]] : [args[0], args[1]];
      const p = (params ?? {}) as { headers?: Record<string, string>; tags?: Record<string, string> };
      if (body !== null && typeof body !== 'string') throw new Error(`harness: ${method} ${url}: send a string body`);
      result.requests.push({ method, url, body: body as string | null, headers: { ...(p.headers ?? {}) }, tags: { ...(p.tags ?? {}) } });
      return response(method, url);
    };
    const http = { get: request('GET'), post: request('POST'), put: request('PUT'), del: request('DELETE'), patch: request('PATCH') };

    // k6/ws connect (js/modules/k6/ws/ws.go): a failed handshake returns the response (or status 0) without calling
    // the handler; otherwise the handler runs, then 'open', messages, and 'close' with the code; connect returns
    // when the socket is closed. close() defaults to 1001.
    const ws = {
      connect(url: string, params: { headers?: Record<string, string> } | undefined, handler: (socket: unknown) => void) {
        notInInit('ws.connect');
        const plan = feed.shift() ?? { status: 0 };
        const connection = { url, headers: { ...(params?.headers ?? {}) }, sent: [] as string[], closedWith: null as number | null, closedAt: null as number | null };
        result.connections.push(connection);
        if (plan.status !== 101) return { status: plan.status, error: plan.status ? '' : 'dial tcp: connection refused', url };
        const handlers: Record<string, Array<(...a: unknown[]) => void>> = {};
        const timers: Array<{ due: number; fn: () => void }> = [];
        const emit = (event: string, ...a: unknown[]) => (handlers[event] ?? []).forEach((h) => h(...a));
        const close = (code: number) => {
          if (connection.closedWith !== null) return;
          connection.closedWith = code;
          connection.closedAt = clock.now;
          emit('close', code);
        };
        const socket = {
          on: (event: string, h: (...a: unknown[]) => void) => (handlers[event] ??= []).push(h),
          send: (text: string) => {
            if (typeof text !== 'string') throw new Error('harness: socket.send takes a string');
            connection.sent.push(text);
          },
          setTimeout: (fn: () => void, ms: number) => timers.push({ due: clock.now + ms, fn }),
          close: (code?: number) => close(code ?? 1001),
        };
        handler(socket);
        emit('open');
        for (const m of plan.messages ?? []) {
          if (connection.closedWith !== null) break;
          clock.now += m.afterMs;
          emit('message', JSON.stringify(m.data));
        }
        const end = plan.end ?? { by: 'listener' };
        if (end.by === 'server') close(end.code);
        timers.sort((a, b) => a.due - b.due);
        while (connection.closedWith === null) {
          const timer = timers.shift();
          if (!timer) throw new Error('harness: the listener set no timer to close its connection: it would hold it forever');
          clock.now = Math.max(clock.now, timer.due);
          timer.fn();
        }
        return { status: 101, url, error: '' };
      },
    };

    const execution = {
      get scenario() { return { ...exec.scenario }; },
      get vu() { return { ...exec.vu }; },
      get instance() { return {}; },
      test: {
        abort(message?: string) {
          throw new Abort(message ?? 'aborted');
        },
      },
    };

    const k6 = {
      sleep(seconds: number) {
        notInInit('sleep');
        if (!(seconds >= 0)) throw new Error(`sleep(${seconds}): seconds must be a number ≥ 0`);
        result.sleeps.push(seconds);
        clock.now += seconds * 1000;
      },
    };

    const fakes: Record<string, Record<string, unknown>> = {
      k6,
      'k6/http': { default: http, ...http },
      'k6/ws': { default: ws, connect: ws.connect },
      'k6/execution': { default: execution },
      'k6/metrics': { Counter: metric(), Trend: metric(), Rate: metric(), Gauge: metric() },
    };
    const cache = new Map<string, vm.Module>();
    const linker = async (specifier: string, referencing: vm.Module): Promise<vm.Module> => {
      if (fakes[specifier]) return cache.get(specifier) ?? cache.set(specifier, synthetic(fakes[specifier]!, specifier)).get(specifier)!;
      if (!specifier.startsWith('./') && !specifier.startsWith('../')) throw new Error(`k6 has no module '${specifier}' (or the harness does not fake it)`);
      const path = resolve(dirname(referencing.identifier), specifier);
      if (!cache.has(path)) cache.set(path, new vm.SourceTextModule(readFileSync(path, 'utf8'), { identifier: path, context }));
      return cache.get(path)!;
    };
    const main = new vm.SourceTextModule(readFileSync(scriptPath, 'utf8'), { identifier: scriptPath, context });
    return { main, linker, context };
  }

  async function init(): Promise<{ ns: Record<string, unknown>; context: vm.Context }> {
    phase = 'init';
    const { main, linker, context } = instantiate(resolve(ROOT, spec.script));
    await main.link(linker);
    await main.evaluate();
    phase = 'vu';
    return { ns: main.namespace as Record<string, unknown>, context };
  }

  const call = (ns: Record<string, unknown>, fn: string, ...args: unknown[]): unknown => {
    const f = ns[fn];
    if (typeof f !== 'function') throw new Error(`the script exports no function ${fn}`);
    return f(...args);
  };
  const failure = (err: unknown) => String((err as Error)?.stack ?? err);

  let ns: Record<string, unknown>;
  try {
    ({ ns } = await init());
  } catch (err) {
    result.initError = String((err as Error)?.message ?? err);
    process.stdout.write(JSON.stringify(result));
    return;
  }
  result.options = JSON.parse(JSON.stringify(ns.options));
  try {
    exec.scenario = { ...exec.scenario, name: 'setup' };
    // Setup's return value reaches every VU as JSON (k6 js/runner.go: json.Marshal of setup data).
    const data = JSON.parse(JSON.stringify(call(ns, 'setup') ?? null));
    result.setupData = data;
    const started: Record<string, number> = {};
    for (const c of spec.calls ?? []) {
      started[c.scenario] ??= clock.now;
      exec.scenario = { ...exec.scenario, name: c.scenario, startTime: started[c.scenario]!, iterationInTest: c.iterationInTest ?? 0 };
      exec.vu = { ...exec.vu, idInTest: c.vu ?? 1 };
      try {
        call(ns, c.fn, JSON.parse(JSON.stringify(data)));
      } catch (err) {
        if (err instanceof Abort) throw err;
        result.errors.push({ fn: c.fn, error: failure(err) });
      }
    }
  } catch (err) {
    if (err instanceof Abort) result.aborted = err.message;
    else result.errors.push({ fn: 'setup', error: failure(err) });
  }

  if (spec.summary !== undefined) {
    // handleSummary runs in a fresh VU (k6 js/runner.go HandleSummary: r.newVU), on the summary data as a JS object.
    try {
      const fresh = await init();
      const parse = vm.runInContext('JSON.parse', fresh.context) as (text: string) => unknown;
      const returned = call(fresh.ns, 'handleSummary', parse(JSON.stringify(spec.summary))) as Record<string, unknown>;
      result.summaryResult = {};
      for (const [path, value] of Object.entries(returned ?? {})) {
        if (typeof value !== 'string') throw new Error(`handleSummary: '${path}' must be a string`);
        result.summaryResult[path] = value;
        if (path === 'stdout' || path === 'stderr') continue;
        // k6 opens the path with O_CREAT and no mkdir (internal/cmd/run.go handleSummaryResult).
        const file = resolve(spec.cwd ?? ROOT, path);
        if (!existsSync(dirname(file))) throw new Error(`could not open '${path}': no such directory`);
        writeFileSync(file, value);
      }
    } catch (err) {
      result.summaryError = String((err as Error)?.message ?? err);
    }
  }
  process.stdout.write(JSON.stringify(result));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
