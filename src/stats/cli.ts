import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { loadRuleSet } from '../rules/load.js';
import { writeBoards } from './board.js';
import { STATS, statsContext } from './index.js';

/** The boards shipped beside the package (src/stats or dist/stats: two levels up is the package root). */
const SHIPPED_BOARDS = fileURLToPath(new URL('../../dashboards/', import.meta.url));

/** `qingjian stats list|boards`: the statistics, and the Grafana boards' SQL written from them. */
export function statsCommand(): Command {
  const stats = new Command('stats').description('the statistics of the justice bureau\'s view, GET /v1/stats and the Grafana boards');
  stats.command('list').description('one line per statistic: name, title, columns').action(() => {
    for (const s of STATS) console.log(`${s.name}\t${s.title.zh} · ${s.title.en}\t${s.columns.map((c) => c.name).join(',')}`);
  });
  stats.command('boards')
    .description('rewrite the SQL of every board query whose refId names a statistic (with the lead days of the rules in RULES_DIR)')
    .option('--dir <dir>', 'the boards\' folder', SHIPPED_BOARDS)
    .action(async (opts: { dir: string }) => {
      const context = statsContext(await loadRuleSet(loadConfig().RULES_DIR));
      const changed = await writeBoards(opts.dir, context);
      console.log(changed.length > 0 ? `rewritten: ${changed.join(', ')}` : 'every board is up to date');
    });
  return stats;
}
