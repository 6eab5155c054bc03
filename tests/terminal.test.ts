import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/redis/local-server.js';
import { eventually } from './support/service.js';

/**
 * What a person sees in the terminal: readable log lines, a start-up banner and progress bars when stdout is a
 * terminal (a real pseudo-terminal, from util-linux's `script`), JSON lines when it is piped.
 */
const ROOT = resolve(import.meta.dirname, '..');
const CLI = ['--import', 'tsx', 'src/cli.ts'];
const dirs: string[] = [];
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'qingjian-terminal-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Every process below `parent`, read from /proc: the service `script` runs, and the redis-server the service starts. */
function descendantsOf(parent: number): number[] {
  const parents = new Map<number, number>();
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command's closing parenthesis: state, then the parent's pid.
      parents.set(Number(pid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while the list was read.
    }
  }
  const below = (pid: number): number[] => [...parents].filter(([, ppid]) => ppid === pid).flatMap(([child]) => [child, ...below(child)]);
  return below(parent);
}

// Without the terminal's control sequences (colours, cursor moves), so the text can be read.
const plain = (text: string) => text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

describe('piped output', () => {
  it('is JSON lines by default, with no progress bar', () => {
    const run = spawnSync(process.execPath, [...CLI, 'migrate'], { cwd: ROOT, env: { ...process.env, DATA_DIR: dataDir() }, encoding: 'utf8' });
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n');
    const records = lines.map((line) => JSON.parse(line) as { msg: string; applied?: number[] });
    expect(records.find((r) => r.msg === 'migrations applied')?.applied?.length).toBeGreaterThan(0);
    expect(run.stderr).not.toContain('迁移');
  });

  it('is readable lines when LOG_FORMAT=pretty, and refuses a format it does not know', () => {
    const run = spawnSync(process.execPath, [...CLI, 'migrate'], { cwd: ROOT, env: { ...process.env, DATA_DIR: dataDir(), LOG_FORMAT: 'pretty' }, encoding: 'utf8' });
    expect(run.status).toBe(0);
    const line = plain(run.stdout).split('\n').find((l) => l.includes('migrations applied'));
    expect(line).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: migrations applied/);
    expect(() => JSON.parse(line!)).toThrow();

    const wrong = spawnSync(process.execPath, [...CLI, 'migrate'], { cwd: ROOT, env: { ...process.env, DATA_DIR: dataDir(), LOG_FORMAT: 'yaml' }, encoding: 'utf8' });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('LOG_FORMAT');
  });
});

describe('qingjian start --demo at a terminal', () => {
  it('shows readable logs, a banner with the console link, the token file and the storage, and the history loading', async () => {
    const port = await freePort();
    const dir = dataDir();
    // `exec`: the service replaces the shell `script` runs it through, whichever $SHELL is (dash would keep itself in
    // between, and its own status after Ctrl-C, 130, would hide the service's).
    const command = `exec ${process.execPath} ${CLI.join(' ')} start --demo --demo-visits 0`;
    // `script` gives the service a terminal of its own and copies what it shows to our pipe.
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: ROOT, env: { ...process.env, PORT: String(port), DATA_DIR: dir, COLUMNS: '160' }, detached: true,
    });
    let shown = '';
    child.stdout.on('data', (chunk: Buffer) => { shown += chunk.toString(); });
    // `script -e` exits with the service's own status: 0 after Ctrl-C, not 1 after a crash.
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    let service: number[] = [];
    try {
      await eventually(async () => (plain(shown).includes('demo world loaded') ? true : undefined), 150_000, 'the demo history loaded');
      service = descendantsOf(child.pid!);
      expect(service.length).toBeGreaterThan(0);
      const text = plain(shown);
      const token = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
      expect(text).toContain('清检 Qingjian 已启动 · started');
      expect(text).toContain(`控制台 Console      http://127.0.0.1:${port}/#token=${token}`);
      expect(text).toContain(`管理员令牌 Token    ${join(dir, 'admin-token')}`);
      expect(text).toContain(`嵌入式 ClickHouse (chdb) · embedded, in ${dir}`);
      expect(text).toMatch(/本地 redis-server · own, redis:\/\/127\.0\.0\.1:\d+/);
      // The bar counts the history's events, and ends at its total.
      const counts = [...text.matchAll(/演示历史 Demo history \[[^\]]*\] (\d+)\/(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
      expect(counts.length).toBeGreaterThan(0);
      expect(counts.at(-1)![0]).toBe(counts.at(-1)![1]);
      expect(text).toMatch(/迁移 Migrations \[[^\]]*\] (\d+)\/\1/);
      // Log records as lines a person reads, not JSON.
      expect(text).toMatch(/\[\d\d:\d\d:\d\d\] INFO: qingjian started/);
      expect(text).not.toContain('{"level"');
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    } finally {
      // Ctrl-C typed at the terminal: its line discipline signals the foreground processes, the service among them.
      // (A signal to `script` alone ends the terminal, and the service takes the hangup as SIGHUP: reload the rules.)
      child.stdin.write('\x03');
    }
    expect(await exited).toBe(0);
    // `script` returns once the service has closed the terminal, and the service's processes outlive that (measured
    // with both cores busy: about 1.5 s until /proc lets it go). What they still wrote then made the directory's
    // removal fail in CI (ENOTEMPTY), so the directory goes after every one of them.
    await eventually(async () => (service.some((pid) => existsSync(`/proc/${pid}`)) ? undefined : true), 60_000, 'the service processes gone');
  }, 200_000);
});
