import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createWorld } from '../src/demo/index.js';
import { freePort } from '../src/redis/local-server.js';
import { eventually, get } from './support/service.js';

/**
 * The README's quick start, as a user runs it: `npm start -- --demo` builds,
 * starts Redis and the embedded engine, loads the demo world, and stops
 * cleanly on Ctrl-C (SIGINT to the whole process group), Redis included. In
 * between, the README's "Try it" runs as written in a second shell, against
 * this fresh DATA_DIR: every command succeeds, and each that prints something
 * prints something. (`npm ci`, the first command, is what made this checkout's
 * node_modules; the test does not reinstall them.)
 */
const ROOT = join(import.meta.dirname, '..');
const dataDir = mkdtempSync(join(tmpdir(), 'qingjian-quickstart-'));

/** The commands of the README's "Try it" block, one a line. */
function tryIt(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Try it'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  return block.split('\n').filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
}

/** Lines that only set a variable or wait print nothing; every other command must print something. */
const printsNothing = (command: string) => /^(export \w+=|\w+=|sleep )/.test(command);

/** Runs the commands in one bash, as typed into a terminal, with each one's output and exit status. */
function runInShell(commands: string[], env: Record<string, string>): Array<{ command: string; status: number; output: string }> {
  const script = commands.map((command, i) => `${command}\n__rc=$?\nprintf '\\n@@end ${i} %s\\n' "$__rc"`).join('\n');
  const run = spawnSync('bash', ['-c', script], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 300_000 });
  const results: Array<{ command: string; status: number; output: string }> = [];
  let rest = run.stdout;
  commands.forEach((command, i) => {
    const marker = new RegExp(`\\n@@end ${i} (\\d+)\\n`).exec(rest);
    if (!marker) throw new Error(`"${command}" did not finish: ${run.stderr}`);
    results.push({ command, status: Number(marker[1]), output: rest.slice(0, marker.index).trim() });
    rest = rest.slice(marker.index + marker[0].length);
  });
  return results;
}
/** The quick start's service: the process running `bin/qingjian.mjs start` on this test's DATA_DIR. */
function serviceProcess(): number {
  const pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('bin/qingjian.mjs\0start') && environOf(Number(pid)).includes(`DATA_DIR=${dataDir}`);
    } catch {
      return false; // gone meanwhile
    }
  });
  expect(pids).toHaveLength(1);
  return Number(pids[0]);
}

const environOf = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');

// The service may still be finishing its shutdown when a failed test gets here.
afterAll(() => rmSync(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 500 }));

describe('npm start -- --demo', () => {
  it('serves demo data and shuts down cleanly on Ctrl-C', async () => {
    const port = await freePort();
    const { MALLOC_ARENA_MAX: _, ...env } = process.env;
    const child = spawn('npm', ['start', '--', '--demo'], {
      env: { ...env, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
      detached: true,
    });
    const exited = new Promise<string>((resolve) => child.on('exit', (code, signal) => resolve(`${code ?? signal}`)));
    const url = `http://127.0.0.1:${port}`;
    let redisPid = 0;
    try {
      await eventually(async () => ((await get(`${url}/readyz`)).status === 200 ? true : undefined), 90_000, 'readyz');
      redisPid = Number(readFileSync(join(dataDir, 'redis', 'redis.pid'), 'utf8'));
      // The first start made an admin token and left it for its owner, as the README says.
      const tokenFile = join(dataDir, 'admin-token');
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      const token = readFileSync(tokenFile, 'utf8').trim();
      expect((await get(`${url}/v1/alerts?limit=1`, 'qjt_not-the-token-000000000000000000000000000')).status).toBe(401);
      expect(existsSync(`/proc/${redisPid}`)).toBe(true);
      // `npm start` limits glibc's arenas for the service, as the image does (docs/configuration.md).
      expect(environOf(serviceProcess())).toContain('MALLOC_ARENA_MAX=2');
      const company = createWorld({ seed: 2024 }).enterprises[5]!;
      const record = await eventually(async () => {
        const page = await get(`${url}/v1/enterprises/${company.enterprise_id}/timeline`, token);
        return page.body?.items?.length > 0 ? page.body : undefined;
      }, 60_000, 'demo events in a timeline');
      expect(record.items[0]).toMatchObject({ id: expect.any(String), type: expect.any(String) });
      expect((await get(`${url}/v1/enterprises/${company.enterprise_id}`, token)).body).toMatchObject({ name: company.name });

      // The README's "Try it", literally, in a second shell.
      const results = runInShell(tryIt(), { PORT: String(port), DATA_DIR: dataDir, QINGJIAN_TOKEN: '' });
      expect(results.length).toBeGreaterThan(8);
      for (const { command, status, output } of results) {
        expect(status, command).toBe(0);
        if (!printsNothing(command)) expect(output, command).not.toBe('');
      }
      const said = (start: string) => results.find((r) => r.command.startsWith(start))!.output;
      expect(said('curl -s $QJ/readyz')).toContain('ready');
      expect(said('curl -s -H "$auth" "$QJ/v1/enterprises/$company/timeline')).toContain('try-it-');
      expect(said('curl -s -H "$auth" "$QJ/v1/exports/alerts')).toContain('预警编号');
      expect(said('npx qingjian tokens create')).toMatch(/^qjt_/);
      expect(said('npx qingjian --version')).toMatch(/^\d+\.\d+\.\d+$/);
    } finally {
      process.kill(-child.pid!, 'SIGINT');
    }
    // npm itself ends by the signal, as it does on Ctrl-C; the service then finishes its shutdown,
    // whose last step stops Redis (which Ctrl-C does not reach: it has its own process group).
    expect(['0', 'SIGINT']).toContain(await exited);
    await eventually(async () => (existsSync(`/proc/${redisPid}`) ? undefined : true), 30_000, 'redis stopped by the service');
  }, 600_000);
});
