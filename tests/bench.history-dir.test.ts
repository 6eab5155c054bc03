import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openHistoryDir } from '../bench/history-dir.js';

/** `bench:backtest --data`'s directory: a finished history is reused, an interrupted one made again, anything else refused. */
describe('the backtest benchmark history directory', () => {
  const dirs: string[] = [];
  const fresh = () => {
    const dir = mkdtempSync(join(tmpdir(), 'qingjian-history-dir-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('is made from nothing, marked as started until it is finished, then reused as it was', () => {
    const dir = join(fresh(), 'history');
    const first = openHistoryDir<{ events: number }>(dir);
    expect(first).toMatchObject({ kept: null, cleared: false });
    expect(readdirSync(dir)).toEqual(['bench-history.started']);
    writeFileSync(join(dir, 'data'), 'rows');
    first.finish({ events: 5 });
    expect(readdirSync(dir).sort()).toEqual(['bench-history.json', 'data']);

    const again = openHistoryDir<{ events: number }>(dir);
    expect(again).toMatchObject({ kept: { events: 5 }, cleared: false });
    expect(readdirSync(dir).sort()).toEqual(['bench-history.json', 'data']);
  });

  it('removes a history that was interrupted and starts it again', () => {
    const dir = fresh();
    openHistoryDir(dir);
    mkdirSync(join(dir, 'clickhouse'));
    writeFileSync(join(dir, 'clickhouse', 'part'), 'half written');

    const again = openHistoryDir(dir);
    expect(again).toMatchObject({ kept: null, cleared: true });
    expect(readdirSync(dir)).toEqual(['bench-history.started']);
  });

  it('refuses a directory that holds something else, and leaves it as it was', () => {
    const dir = fresh();
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    expect(() => openHistoryDir(dir)).toThrow(`${dir} is not empty and holds no finished history`);
    expect(readdirSync(dir)).toEqual(['notes.txt']);
    expect(existsSync(join(dir, 'bench-history.started'))).toBe(false);
  });
});
