/**
 * The functions a CPU profile (V8's .cpuprofile, from `node --cpu-prof` or bench:rules --cpu-prof) spent most
 * time in, by self time, or a sampling heap profile (bench:rules --alloc-prof) allocated most in, or what a heap
 * snapshot (`node --heapsnapshot-signal=SIGUSR2`) holds by type and constructor, as a Markdown table: what
 * docs/performance.md quotes. With --long-tasks MS, a CPU profile's stretches of MS or more without an idle sample
 * (what held the event loop that long; on a saturated thread several tasks run together), and the functions they
 * spent their time in, callees included.
 *
 *   npx tsx bench/profile-summary.ts FILE.cpuprofile|FILE.heapprofile|FILE.heapsnapshot [top=25] [--long-tasks MS]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
}

/** V8's sampling heap profile (bench:rules --alloc-prof): bytes allocated, by the stack that allocated them. */
interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

/** A heap snapshot: every live object as `node_fields.length` numbers in `nodes`, names indexing `strings`. */
interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

const { positionals: [file, top = '25'], values: flags } = parseArgs({ allowPositionals: true, options: { 'long-tasks': { type: 'string' } } });
if (!file) throw new Error('usage: bench/profile-summary.ts FILE.cpuprofile|FILE.heapprofile|FILE.heapsnapshot [top] [--long-tasks MS]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile | { head: HeapNode } | HeapSnapshot;

const where = (frame: CallFrame) => {
  const at = frame.url ? `${frame.url.replace(/^.*\/(node_modules\/|src\/|bench\/)/, '$1')}:${frame.lineNumber + 1}` : '';
  return `${frame.functionName || '(anonymous)'} ${at}`.trim();
};

/**
 * The largest entries as a Markdown table; with `counts`, how many things each entry sums. Shares are of the
 * entries' sum, or of `whole` where entries overlap (time including callees).
 */
function print(self: Map<string, number>, unit: string, scale: number, what = 'function', counts?: Map<string, number>, whole?: number): number {
  const total = whole ?? [...self.values()].reduce((a, b) => a + b, 0);
  console.log(`| ${whole === undefined ? 'self' : 'total'} ${unit} |${counts ? ' count |' : ''} share | ${what} |\n| ---: |${counts ? ' ---: |' : ''} ---: | --- |`);
  for (const [key, amount] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) {
    console.log(`| ${(amount / scale).toFixed(1)} |${counts ? ` ${counts.get(key)} |` : ''} ${((100 * amount) / total).toFixed(1)}% | \`${key}\` |`);
  }
  return total;
}

/** Self size and count by type and, for objects, closures and native objects, constructor or name. */
function printSnapshot({ snapshot: { meta }, nodes, strings }: HeapSnapshot) {
  const field = (name: string) => meta.node_fields.indexOf(name);
  const [type, name, size, width] = [field('type'), field('name'), field('self_size'), meta.node_fields.length];
  const bytes = new Map<string, number>();
  const counts = new Map<string, number>();
  for (let i = 0; i < nodes.length; i += width) {
    const kind = meta.node_types[0][nodes[i + type]!]!;
    const key = ['object', 'closure', 'native'].includes(kind) ? `${kind} ${strings[nodes[i + name]!]!.slice(0, 80)}` : kind.endsWith('string') ? 'string' : kind;
    bytes.set(key, (bytes.get(key) ?? 0) + nodes[i + size]!);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const total = print(bytes, 'MiB', 2 ** 20, 'type, constructor', counts);
  console.log(`\nLive heap ${(total / 2 ** 20).toFixed(1)} MiB (self sizes).`);
}

/** Stretches of samples between idle ones that lasted `minMs` or more, and the time of each function within them, callees included. */
function printLongTasks(cpu: CpuProfile, minMs: number) {
  if (!(minMs >= 0)) throw new Error('--long-tasks: expected milliseconds, a number of 0 or more');
  const nodes = new Map(cpu.nodes.map((n) => [n.id, n]));
  const parents = new Map<number, number>();
  for (const node of cpu.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const tasks: Array<{ us: number; samples: Array<[id: number, us: number]> }> = [];
  let current: (typeof tasks)[number] | null = null;
  cpu.samples.forEach((id, i) => {
    const us = cpu.timeDeltas[i] ?? 0;
    if (nodes.get(id)!.callFrame.functionName === '(idle)') current = null;
    else {
      if (!current) tasks.push((current = { us: 0, samples: [] }));
      current.us += us;
      current.samples.push([id, us]);
    }
  });
  const long = tasks.filter((t) => t.us >= minMs * 1000);
  const inclusive = new Map<string, number>();
  for (const [id, us] of long.flatMap((t) => t.samples)) {
    const stack = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) stack.add(where(nodes.get(at)!.callFrame));
    for (const key of stack) inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
  const longUs = long.reduce((sum, t) => sum + t.us, 0);
  const bands = [10, 20, 50, 100, 200, 500].map((ms) => `${ms}+ ms: ${tasks.filter((t) => t.us >= ms * 1000).length}`).join(', ');
  console.log(`${tasks.length} stretches without an idle sample (${bands}); ${long.length} of ${minMs} ms or more, ` +
    `${(longUs / 1000).toFixed(0)} ms together, the longest ${(Math.max(0, ...tasks.map((t) => t.us)) / 1000).toFixed(0)} ms.\n`);
  print(inclusive, 'ms', 1000, 'function (callees included)', undefined, longUs);
}

const self = new Map<string, number>();
if ('snapshot' in profile) {
  printSnapshot(profile);
} else if ('head' in profile) {
  const walk = (node: HeapNode) => {
    self.set(where(node.callFrame), (self.get(where(node.callFrame)) ?? 0) + node.selfSize);
    node.children.forEach(walk);
  };
  walk(profile.head);
  const total = print(self, 'MiB', 2 ** 20);
  console.log(`\nSampled ${(total / 2 ** 30).toFixed(2)} GiB allocated (garbage included).`);
} else if (flags['long-tasks'] !== undefined) {
  printLongTasks(profile, Number(flags['long-tasks']));
} else {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  profile.samples.forEach((id, i) => {
    const key = where(frames.get(id)!);
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = print(self, 'ms', 1000);
  console.log(`\nProfiled ${(total / 1e6).toFixed(1)} s of the main thread (idle included as "(idle)").`);
}
