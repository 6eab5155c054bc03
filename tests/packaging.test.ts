import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * What ships: `npm run build` (the Dockerfile's build step) compiles src/
 * alone into dist/, and the image copies dist/ plus a few folders. Test
 * support (tests/, *.test.ts) must be in neither.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Under node_modules/, so that the compiled modules find their packages when the test runs them.
mkdirSync(join(ROOT, 'node_modules', '.cache'), { recursive: true });
const outDir = mkdtempSync(join(ROOT, 'node_modules', '.cache', 'qingjian-dist-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe('packaging', () => {
  it('dist/ holds the compiled src/ and nothing else', () => {
    const build = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.build as string;
    const [command, ...args] = build.split(' ');
    expect(command).toBe('tsc');
    // The build itself, into a scratch folder; it fails if src/ imports anything outside src/ (rootDir).
    execFileSync(join(ROOT, 'node_modules/.bin/tsc'), [...args, '--outDir', outDir], { cwd: ROOT, stdio: 'pipe' });
    const emitted = files(outDir).map((f) => relative(outDir, f)).filter((f) => f.endsWith('.js'));
    expect(emitted).toContain('service.js');
    for (const file of emitted) expect(existsSync(join(ROOT, 'src', file.replace(/\.js$/, '.ts'))), `${file} comes from src/`).toBe(true);
    expect(emitted.filter((f) => /(^|\/)(tests?|testing)\/|clickhouse-http|\.test\.js$/.test(f))).toEqual([]);
  }, 120_000);

  it('the compiled backtest judges its slices on a thread of compiled modules', async () => {
    expect(existsSync(join(outDir, 'rules', 'backtest', 'entry.js')), 'built by the test above').toBe(true);
    const compiled = (path: string) => import(pathToFileURL(join(outDir, path)).href);
    const { loadRuleSet } = await compiled('rules/load.js') as typeof import('../src/rules/load.js');
    const { ruleSetAt, startSliceThread } = await compiled('rules/backtest/thread.js') as typeof import('../src/rules/backtest/thread.js');
    const { EngineEventRow } = await compiled('storage/tables/events.js') as typeof import('../src/storage/tables/events.js');
    const set = await loadRuleSet(join(ROOT, 'rules'));
    const thread = await startSliceThread({
      current: ruleSetAt(set), candidate: null, ruleId: 'no-plan', anchors: { from: 0, to: Date.now() }, now: Date.now(), agencies: [],
      columns: Object.keys(EngineEventRow.shape) as Array<keyof typeof EngineEventRow.shape>,
    });
    try {
      const header = JSON.stringify(Object.keys(EngineEventRow.shape));
      const slice = (...rows: unknown[][]) => new TextEncoder().encode([header, ...rows.map((r) => JSON.stringify(r))].join('\n'));
      expect(await thread.judge(slice(), new Map())).toEqual({ current: [], candidate: [], names: [], companies: 0, events: 0 });
      // A row is decoded and checked there too.
      await expect(thread.judge(slice(Object.keys(EngineEventRow.shape).map(() => 0)), new Map())).rejects.toThrow(/events\.inSpans: row 0 does not fit/);
    } finally {
      await thread.close();
    }
  });

  it('the image limits glibc\'s arenas for every command, as `npm start` does', () => {
    // No Docker engine here: the runtime stage's environment is read from the Dockerfile (quickstart.test.ts checks
    // the process `npm start` runs).
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const env = runtime.split('\n').filter((line) => /^ENV\s/.test(line)).flatMap((line) => line.trim().split(/\s+/).slice(1));
    expect(env).toContain('MALLOC_ARENA_MAX=2');
  });

  it('the image copies no test code from the build context', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    // COPY from the context (not --from=another stage): every argument but the destination.
    const sources = dockerfile.split('\n')
      .filter((line) => /^COPY\s/.test(line) && !line.includes('--from='))
      .flatMap((line) => line.trim().split(/\s+/).slice(1, -1));
    expect(sources).toContain('src');
    for (const source of sources) {
      expect(['.', './', 'tests', 'tests/'], `COPY ${source}`).not.toContain(source);
      expect(source.startsWith('tests/'), `COPY ${source}`).toBe(false);
    }
    expect(ignored).toContain('tests');
    // Test files beside shipped ones (rules/tests/rules.test.ts) are kept out of the context.
    const besideShipped = sources.filter((s) => existsSync(join(ROOT, s)) && statSync(join(ROOT, s)).isDirectory())
      .flatMap((s) => files(join(ROOT, s))).filter((f) => f.endsWith('.test.ts'));
    if (besideShipped.length > 0) expect(ignored).toContain('**/*.test.ts');
  });
});
