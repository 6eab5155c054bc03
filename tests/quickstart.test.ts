import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = `http://127.0.0.1:${port}`;
    try {
      await eventually(async () => ((await get(`${url}/readyz`)).status === 200 ? true : undefined), 90_000, 'readyz');
      const company = createWorld({ seed: 2024 }).enterprises[5]!;
      const record = await eventually(async () => {
        const page = await get(`${url}/v1/enterprises/${company.enterprise_id}/timeline`);
        return page.body?.items?.length > 0 ? page.body : undefined;
      }, 60_000, 'demo events in a timeline');
      expect(record.items[0]).toMatchObject({ id: expect.any(String), type: expect.any(String) });
      expect((await get(`${url}/v1/enterprises/${company.enterprise_id}`)).body).toMatchObject({ name: company.name });
    } finally {
      process.kill(-child.pid!, 'SIGINT');
    }
    expect(await exited).toBe(0);
    const pidfile = join(dataDir, 'redis', 'redis.pid');
    const redisPid = existsSync(pidfile) ? Number(readFileSync(pidfile, 'utf8')) : null;
    expect(redisPid === null || !existsSync(`/proc/${redisPid}`)).toBe(true);
  }, 180_000);
});
