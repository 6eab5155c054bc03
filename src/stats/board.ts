import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GRAFANA_DIALECT, type StatsContext } from './sql.js';
import { statNamed } from './index.js';

/**
 * The Grafana boards' SQL comes from the statistics: a ClickHouse query whose refId names a statistic gets
 * that statistic's SQL in Grafana's dialect, and a table panel shows its columns by their bilingual labels.
 * `qingjian stats boards` rewrites dashboards/*.json this way; tests/stats.board.test.ts proves the files
 * in the tree are what it would write.
 */
type Json = Record<string, any>;

const CLICKHOUSE = 'grafana-clickhouse-datasource';

/** The board with every panel query that names a statistic rewritten from its definition. */
export function syncBoard(board: Json, context: StatsContext): Json {
  const copy = structuredClone(board);
  for (const panel of panelsOf(copy)) {
    const targets: Json[] = panel.targets ?? [];
    for (const target of targets) {
      const stat = target.datasource?.type === CLICKHOUSE ? statNamed(target.refId) : undefined;
      if (!stat) continue;
      target.rawSql = stat.sql(GRAFANA_DIALECT, context);
      if (panel.type === 'table' && targets.length === 1) {
        const renameByName = Object.fromEntries(stat.columns.map((c) => [c.name, `${c.zh} ${c.en}`]));
        const others = (panel.transformations ?? []).filter((t: Json) => t.id !== 'organize');
        panel.transformations = [{ id: 'organize', options: { renameByName } }, ...others];
      }
    }
  }
  return copy;
}

/** Panels that show data, those inside rows included. */
export const panelsOf = (board: Json): Json[] =>
  (board.panels ?? []).flatMap((p: Json) => (p.type === 'row' ? p.panels ?? [] : [p]));

/** Rewrites every board in `dir` whose queries name statistics; returns the files that changed. */
export async function writeBoards(dir: string, context: StatsContext): Promise<string[]> {
  const changed: string[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.json')).sort()) {
    const path = join(dir, file);
    const text = await readFile(path, 'utf8');
    const next = `${JSON.stringify(syncBoard(JSON.parse(text) as Json, context), null, 2)}\n`;
    if (next !== text) {
      await writeFile(path, next);
      changed.push(file);
    }
  }
  return changed;
}
