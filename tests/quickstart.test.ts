import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createWorld } from '../src/demo/index.js';
import { freePort } from '../src/redis/local-server.js';
import { eventually, get } from './support/service.js';

/**
 * The README's first command, as a user runs it: `npm start -- --demo` builds,
 * starts Redis and the embedded engine, loads the demo world, and stops
 * cleanly on Ctrl-C (SIGINT to the whole process group), Redis included.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'qingjian-quickstart-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('npm start -- --demo', () => {
  it('serves demo data and shuts down cleanly on Ctrl-C', async () => {
    const port = await freePort();
    const child = spawn('npm', ['start', '--', '--demo'], {
      env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
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
      const company = createWorld({ seed: 2024 }).enterprises[5]!;
      const record = await eventually(async () => {
        const page = await get(`${url}/v1/enterprises/${company.enterprise_id}/timeline`, token);
        return page.body?.items?.length > 0 ? page.body : undefined;
      }, 60_000, 'demo events in a timeline');
      expect(record.items[0]).toMatchObject({ id: expect.any(String), type: expect.any(String) });
      expect((await get(`${url}/v1/enterprises/${company.enterprise_id}`, token)).body).toMatchObject({ name: company.name });
    } finally {
      process.kill(-child.pid!, 'SIGINT');
    }
    // npm itself ends by the signal, as it does on Ctrl-C; the service then finishes its shutdown,
    // whose last step stops Redis (which Ctrl-C does not reach: it has its own process group).
    expect(['0', 'SIGINT']).toContain(await exited);
    await eventually(async () => (existsSync(`/proc/${redisPid}`) ? undefined : true), 30_000, 'redis stopped by the service');
  }, 180_000);
});
