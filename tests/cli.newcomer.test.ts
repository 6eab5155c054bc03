import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runQingjian } from './support/cli.js';

/**
 * The command line as a newcomer meets it: `qingjian --version`, and
 * `rules backtest` while a running service holds the embedded engine, which
 * says so in words and what to do instead of the engine's raw exception.
 */
const ROOT = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'qingjian-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const qingjian = (args: string[], env: Record<string, string> = {}) => runQingjian(args, { ...process.env, LOG_LEVEL: 'silent', ...env });

describe('the command line', () => {
  it('prints its version', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const run = await qingjian(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(version);
  });

  it('says what to do when rules backtest finds the embedded engine held by a running service', async () => {
    // Another process holding the data directory's engine, as a running `qingjian start` does.
    const holder = spawn(process.execPath, ['-e', `
      const { Session } = require('chdb');
      const s = new Session(${JSON.stringify(join(dir, 'clickhouse'))});
      s.query('SELECT 1');
      console.log('holding');
      setInterval(() => {}, 1000);`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
      const run = await qingjian(['rules', 'backtest', '--rule', 'frequent-visits', '--from', '2026-11-01', '--to', '2026-11-02'], { DATA_DIR: dir });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('正被运行中的清检服务使用');
      expect(run.stderr).toContain('Stop the service (Ctrl-C in its terminal)');
      expect(run.stderr).toContain('CLICKHOUSE_URL');
    } finally {
      holder.kill();
    }
  }, 60_000);
});
