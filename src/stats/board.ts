import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GRAFANA_DIALECT, type StatsContext } from './sql.js';
import { statNamed } from './index.js';

/**
 * The Grafana boards' SQL comes from the statistics: a ClickHouse query whose refId names a statistic gets
 * that statistic's SQL in Grafana's dialect, and its fields show by their bilingual labels (display-name overrides).
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
      // Fields keep the statistic's column names (panel options may refer to them); people read the labels.
      if (panel.type !== 'timeseries' && targets.length === 1) {
        const names = new Set(stat.columns.map((c) => c.name));
        const own = (panel.fieldConfig?.overrides ?? []).filter((o: Json) => !(o.matcher?.id === 'byName' && names.has(o.matcher.options)
          && o.properties?.length === 1 && o.properties[0].id === 'displayName'));
        panel.fieldConfig = {
          ...panel.fieldConfig,
          defaults: panel.fieldConfig?.defaults ?? {},
          overrides: [...own, ...stat.columns.map((c) => ({ matcher: { id: 'byName', options: c.name }, properties: [{ id: 'displayName', value: `${c.zh} ${c.en}` }] }))],
        };
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
