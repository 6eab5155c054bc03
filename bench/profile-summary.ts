/**
 * The functions a CPU profile (V8's .cpuprofile, from `node --cpu-prof` or bench:rules --cpu-prof) spent most
 * time in, by self time, or a sampling heap profile (bench:rules --alloc-prof) allocated most in, or what a heap
 * snapshot (`node --heapsnapshot-signal=SIGUSR2`) holds by type and constructor, as a Markdown table: what
 * docs/performance.md quotes.
 *
 *   npx tsx bench/profile-summary.ts FILE.cpuprofile|FILE.heapprofile|FILE.heapsnapshot [top=25]
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame }>;
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

const [file, top = '25'] = process.argv.slice(2);
if (!file) throw new Error('usage: bench/profile-summary.ts FILE.cpuprofile|FILE.heapprofile|FILE.heapsnapshot [top]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile | { head: HeapNode } | HeapSnapshot;

const where = (frame: CallFrame) => {
  const at = frame.url ? `${frame.url.replace(/^.*\/(node_modules\/|src\/|bench\/)/, '$1')}:${frame.lineNumber + 1}` : '';
  return `${frame.functionName || '(anonymous)'} ${at}`.trim();
};

/** The largest entries as a Markdown table; with `counts`, how many things each entry sums. */
function print(self: Map<string, number>, unit: string, scale: number, what = 'function', counts?: Map<string, number>): number {
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(`| self ${unit} |${counts ? ' count |' : ''} share | ${what} |\n| ---: |${counts ? ' ---: |' : ''} ---: | --- |`);
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
} else {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  profile.samples.forEach((id, i) => {
    const key = where(frames.get(id)!);
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = print(self, 'ms', 1000);
  console.log(`\nProfiled ${(total / 1e6).toFixed(1)} s of the main thread (idle included as "(idle)").`);
}
