/**
 * The functions a CPU profile (V8's .cpuprofile, from `node --cpu-prof` or bench:rules --cpu-prof) spent most
 * time in, by self time, or a sampling heap profile (bench:rules --alloc-prof) allocated most in, as a Markdown
 * table: what docs/performance.md quotes.
 *
 *   npx tsx bench/profile-summary.ts FILE.cpuprofile|FILE.heapprofile [top=25]
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

const [file, top = '25'] = process.argv.slice(2);
if (!file) throw new Error('usage: bench/profile-summary.ts FILE.cpuprofile|FILE.heapprofile [top]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile | { head: HeapNode };

const where = (frame: CallFrame) => {
  const at = frame.url ? `${frame.url.replace(/^.*\/(node_modules\/|src\/|bench\/)/, '$1')}:${frame.lineNumber + 1}` : '';
  return `${frame.functionName || '(anonymous)'} ${at}`.trim();
};

function print(self: Map<string, number>, unit: string, scale: number): number {
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(`| self ${unit} | share | function |\n| ---: | ---: | --- |`);
  for (const [key, amount] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) {
    console.log(`| ${(amount / scale).toFixed(0)} | ${((100 * amount) / total).toFixed(1)}% | \`${key}\` |`);
  }
  return total;
}

const self = new Map<string, number>();
if ('head' in profile) {
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
