import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * What ships: `npm run build` (the Dockerfile's build step) compiles src/
 * alone into dist/, and the image copies dist/ plus a few folders. Test
 * support (tests/, *.test.ts) must be in neither.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const outDir = mkdtempSync(join(tmpdir(), 'qingjian-dist-'));
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
