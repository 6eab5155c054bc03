/**
 * The functions a CPU profile (V8's .cpuprofile, from `node --cpu-prof` or bench:rules --cpu-prof) spent most
 * time in, by self time, as a Markdown table: what docs/performance.md quotes.
 *
 *   npx tsx bench/profile-summary.ts FILE.cpuprofile [top=25]
 */
import { readFileSync } from 'node:fs';

interface Profile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

const [file, top = '25'] = process.argv.slice(2);
if (!file) throw new Error('usage: bench/profile-summary.ts FILE.cpuprofile [top]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
const selfUs = new Map<string, number>();
let totalUs = 0;
profile.samples.forEach((id, i) => {
  const frame = frames.get(id)!;
  const where = frame.url ? `${frame.url.replace(/^.*\/(node_modules\/|src\/|bench\/)/, '$1')}:${frame.lineNumber + 1}` : '';
  const key = `${frame.functionName || '(anonymous)'} ${where}`.trim();
  const us = profile.timeDeltas[i] ?? 0;
  selfUs.set(key, (selfUs.get(key) ?? 0) + us);
  totalUs += us;
});
console.log(`| self ms | share | function |\n| ---: | ---: | --- |`);
for (const [key, us] of [...selfUs].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) {
  console.log(`| ${(us / 1000).toFixed(0)} | ${((100 * us) / totalUs).toFixed(1)}% | \`${key}\` |`);
}
console.log(`\nProfiled ${(totalUs / 1e6).toFixed(1)} s of the main thread (idle included as "(idle)").`);
