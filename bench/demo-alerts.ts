/**
 * `npm run demo:alerts`: the alerts the demo's history raises, per rule (and
 * variant) and city. The world and history are the ones `qingjian start --demo`
 * loads (same seed, same generator), but for a fixed end date instead of now,
 * so a count can be repeated and compared before and after a change to the
 * rules or the demo. The rules in rules/ run in-process on a pinned clock
 * (src/rules/simulate.ts): no Redis, no ClickHouse.
 *
 *   npm run demo:alerts                                          # seed 2024, the 30 days before 2026-12-01
 *   npm run demo:alerts -- --seed 7 --days 60 --to 2026-07-01 --json
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { CLEARED, type Alert } from '../src/alerts/model.js';
import { calendarDate, DAY } from '../src/calendar/index.js';
import { DEMO_SEED } from '../src/demo/catalogue.js';
import { createWorld, type World } from '../src/demo/index.js';
import { demoHistory, HISTORY_DAYS } from '../src/demo/traffic.js';
import { Event } from '../src/ingest/schema.js';
import { companyFacts } from '../src/rules/events.js';
import { loadRuleSet, type RuleSet } from '../src/rules/load.js';
import { simulate } from '../src/rules/simulate.js';

const RULES_DIR = fileURLToPath(new URL('../rules', import.meta.url));
// A fixed end, a whole month before it: the quiet period at the month's end falls inside the default period.
const DEFAULT_TO = '2026-12-01';
// Deferred decisions (late scans, urgent checks' filings within 3 working days) about visits of the period are
// taken even when due after its end; two weeks cover 3 working days across the longest holiday.
const DECISIONS_AFTER_DAYS = 14;

const Options = z.object({
  seed: z.coerce.number().int('must be a whole number').min(0, 'must not be negative').default(DEMO_SEED),
  days: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(366, 'must be at most 366').default(HISTORY_DAYS),
  to: z.iso.date({ message: 'must be a date YYYY-MM-DD' }).default(DEFAULT_TO),
  json: z.boolean().default(false),
});
type Options = z.infer<typeof Options>;

export interface AlertCounts {
  seed: number;
  days: number;
  /** The history's first and last day (Shanghai dates); deferred decisions are taken until `decided_until`. */
  first_day: string;
  last_day: string;
  decided_until: string;
  events: number;
  companies: number;
  rule_set: string;
  /** City columns: the first four digits of the division code. */
  regions: Array<{ prefix: string; name: string }>;
  /** One row per rule (its main alert, variant '') and per variant that raised any alert. */
  rows: Array<{ rule: string; variant: string; by_region: Record<string, number>; total: number }>;
  totals: { by_region: Record<string, number>; total: number };
  /** Alerts raised and later withdrawn by the engine when late evidence removed their cause (not counted above). */
  cleared: number;
}

export async function countDemoAlerts(options: Options, rules: RuleSet): Promise<AlertCounts> {
  const to = Date.parse(`${options.to}T00:00:00+08:00`);
  const from = to - options.days * DAY;
  const until = to + DECISIONS_AFTER_DAYS * DAY;
  const world = createWorld({ seed: options.seed });
  // Records and ratings of the period's last visits come after its end: they are part of its story (莆田's 5 working days).
  const history = demoHistory(world, { seed: options.seed, to: new Date(to), days: options.days, followUpUntil: new Date(until) });
  const alerts = simulate({
    rules: rules.rules,
    companies: world.enterprises.map(companyFacts),
    agencyNames: new Map(world.agencies.map((a) => [a.agency_id, a.name])),
    arrivals: history.map((input) => ({ at: Date.parse(input.occurred_at), event: Event.parse(input) })),
    until,
  });
  const standing = alerts.filter((a) => a.resolution !== CLEARED);
  const regions = cities(world);
  return {
    seed: options.seed,
    days: options.days,
    first_day: calendarDate(from),
    last_day: calendarDate(to - DAY),
    decided_until: calendarDate(until),
    events: history.length,
    companies: world.enterprises.length,
    rule_set: rules.digest,
    regions,
    rows: tabulate(standing, rules, regions),
    totals: tally(standing, regions),
    cleared: alerts.length - standing.length,
  };
}

function cities(world: World): AlertCounts['regions'] {
  const byPrefix = new Map(world.regions.map((r) => [r.code.slice(0, 4), r.city]));
  return [...byPrefix].map(([prefix, name]) => ({ prefix, name }));
}

function tabulate(alerts: readonly Alert[], rules: RuleSet, regions: AlertCounts['regions']): AlertCounts['rows'] {
  const keys = [...new Set([
    ...rules.rules.map((r) => `${r.spec.id}\t`),
    ...alerts.map((a) => `${a.rule_id}\t${a.variant}`),
  ])].sort();
  return keys.map((key) => {
    const [rule, variant] = key.split('\t') as [string, string];
    return { rule, variant, ...tally(alerts.filter((a) => a.rule_id === rule && a.variant === variant), regions) };
  });
}

function tally(alerts: readonly Alert[], regions: AlertCounts['regions']) {
  const by_region = Object.fromEntries(regions.map((r) => [r.prefix, 0]));
  for (const alert of alerts) {
    const prefix = alert.region.slice(0, 4);
    by_region[prefix] = (by_region[prefix] ?? 0) + 1;
  }
  return { by_region, total: alerts.length };
}

export function formatCounts(c: AlertCounts): string {
  const columns = c.regions.map((r) => `${r.prefix} ${r.name}`);
  const header = ['规则/变体 rule/variant', ...columns, '合计 total'];
  const line = (label: string, counts: { by_region: Record<string, number>; total: number }) =>
    [label, ...c.regions.map((r) => String(counts.by_region[r.prefix] ?? 0)), String(counts.total)];
  const table = [
    header,
    ...c.rows.map((row) => line(row.variant ? `${row.rule} / ${row.variant}` : row.rule, row)),
    line('合计 total', c.totals),
  ];
  const widths = header.map((_, i) => Math.max(...table.map((cells) => width(cells[i]!))));
  const render = (cells: string[]) => cells.map((cell, i) => (i === 0 ? pad(cell, widths[i]!, 'end') : pad(cell, widths[i]!, 'start'))).join('  ');
  return [
    `demo alerts: seed ${c.seed}, ${c.days} days ${c.first_day} .. ${c.last_day} (Shanghai), deferred decisions taken until ${c.decided_until}`,
    `${c.events} events, ${c.companies} companies, rule set ${c.rule_set}; ${c.cleared} alerts cleared by later evidence are not counted`,
    '',
    ...table.map(render),
  ].join('\n');
}

/** Terminal columns: a Chinese character takes two. */
const width = (text: string) => [...text].reduce((w, ch) => w + (/[\u3000-\u9fff\uff00-\uffef]/.test(ch) ? 2 : 1), 0);
const pad = (text: string, to: number, side: 'start' | 'end') => {
  const fill = ' '.repeat(Math.max(0, to - width(text)));
  return side === 'start' ? fill + text : text + fill;
};

function readOptions(): Options {
  const { values } = parseArgs({
    options: { seed: { type: 'string' }, days: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean' } },
    strict: true,
  });
  const parsed = Options.safeParse(values);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
  return parsed.data;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const options = readOptions();
    const counts = await countDemoAlerts(options, await loadRuleSet(RULES_DIR));
    console.log(options.json ? JSON.stringify(counts, null, 2) : formatCounts(counts));
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 1;
  }
}
