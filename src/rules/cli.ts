import { stat, writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DAY, calendarDate, holidaySources, midnight, withHolidayCalendar, type HolidayCalendar } from '../calendar/index.js';
import { loadConfig } from '../config/index.js';
import { limitHeapGrowth } from '../heap.js';
import { createStorage, missingTables, type Storage } from '../storage/index.js';
import { backtest, formatBacktestReport } from './backtest.js';
import { isPretty } from '../log.js';
import { progress, type Progress } from '../terminal/progress.js';
import { channelsOf } from './compile.js';
import { holidayFileJsonSchema, holidayWarnings } from './holidays.js';
import { formatProblem, loadRuleSet, RuleSetError, type Problem, type RuleSet } from './load.js';
import { policyMapJsonSchema } from './policy-map.js';
import { libraryJsonSchema, ruleJsonSchema } from './schema.js';
import { runRuleTests } from './testing.js';

/**
 * `qingjian rules check|test|schema|backtest` — what a policy officer or an
 * engineer runs before a rule edit goes live (the service itself reloads only
 * a set that passes check and test, so these show the same verdict first).
 */
export function rulesCommand(): Command {
  const rules = new Command('rules').description('check, test and back-test the rule files; print their JSON Schema');
  // `qingjian rules schema | head` closes the pipe early: not an error worth a stack trace.
  rules.hook('preAction', () => {
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      process.exit(process.exitCode ?? 0);
    });
  });
  const dirOption = () => new Option('--dir <dir>', 'rule directory (default: RULES_DIR, the shipped rules/)');

  rules.command('check')
    .description('validate every rule and calendar file; one line per rule and per source of holidays, or every problem as file:line: field: message')
    .addOption(dirOption())
    .action(async (opts: { dir?: string }) => {
      const dir = opts.dir ?? loadConfig().RULES_DIR;
      const set = await loadOrReport(dir);
      if (!set) return;
      for (const { spec } of set.rules) {
        console.log(`${spec.id}@${spec.version} ${spec.kind} ${spec.mode} ${spec.severity} ${channelsOf(spec).join(',') || '-'}`);
      }
      for (const line of holidayCoverage(dir, set.calendar, Date.now())) console.log(line);
      if (!set.policy) console.log('no policy map (regions.yaml): every rule holds everywhere');
      for (const region of set.policy?.regions ?? []) {
        const inForce = [...set.policy!.forRegion(region.prefix).rules.keys()].sort();
        console.log(`region ${region.prefix} ${region.name}: ${inForce.join(', ') || '-'}`);
      }
    });

  rules.command('test')
    .description('run the rule tests (tests/*.test.yaml in the rule directory)')
    .addOption(dirOption())
    .action(async (opts: { dir?: string }) => {
      const set = await loadOrReport(opts.dir ?? loadConfig().RULES_DIR);
      if (!set) return;
      const report = await runRuleTests(set);
      for (const result of report.results) {
        console.log(`${result.failures.length === 0 ? 'ok  ' : 'FAIL'} ${result.rule}: ${result.name}`);
        for (const failure of result.failures) console.log(`       ${failure}`);
      }
      reportProblems(report.problems);
      const failed = report.results.filter((r) => r.failures.length > 0).length;
      const problems = report.problems.length > 0 ? `, ${report.problems.length} problem(s) in test files` : '';
      console.log(`${report.results.length - failed} passed, ${failed} failed${problems}`);
      if (failed > 0 || report.problems.length > 0) process.exitCode = 1;
    });

  rules.command('schema')
    .description('print the JSON Schema of a rule file (rules/schema.json is generated with this)')
    .addOption(new Option('--library', 'the schema of a shared lists-and-macros file (rules/lib/*.yaml) instead').conflicts(['calendar', 'regions']))
    .addOption(new Option('--calendar', 'the schema of a holiday calendar file (rules/calendar/<year>.yaml) instead').conflicts('regions'))
    .option('--regions', 'the schema of the policy map (rules/regions.yaml) instead')
    .option('--out <file>', 'write to this file instead of standard output')
    .action(async (opts: { library?: boolean; calendar?: boolean; regions?: boolean; out?: string }) => {
      const schema = opts.regions ? policyMapJsonSchema() : opts.library ? libraryJsonSchema() : opts.calendar ? holidayFileJsonSchema() : ruleJsonSchema();
      const text = `${JSON.stringify(schema, null, 2)}\n`;
      if (opts.out) await writeFile(opts.out, text);
      else process.stdout.write(text);
    });

  rules.command('backtest')
    .description('run a rule, or an edited copy of it, over stored history: the alerts it would have raised (nothing is stored or sent)')
    .requiredOption('--rule <id>', 'the rule to run')
    .requiredOption('--from <date>', 'first day (YYYY-MM-DD, Asia/Shanghai) or an RFC 3339 instant', when('from'))
    .requiredOption('--to <date>', 'last day, inclusive (YYYY-MM-DD, Asia/Shanghai) or an RFC 3339 instant', when('to'))
    .option('--candidate-dir <dir>', 'a copy of the rule directory holding the edited rule, compared with the current one')
    .option('--json', 'print the report as JSON')
    .addOption(dirOption())
    .action(async (opts: { rule: string; from: number; to: number; candidateDir?: string; json?: boolean; dir?: string }) => {
      if (opts.from > opts.to) throw new Error('--from is after --to');
      const config = loadConfig();
      const current = await loadOrReport(opts.dir ?? config.RULES_DIR);
      const candidate = opts.candidateDir ? await loadOrReport(opts.candidateDir) : undefined;
      if (!current || candidate === null) return;
      // Before opening storage: a typo in the id should not wait for ClickHouse.
      for (const set of [current, candidate]) {
        if (set && !set.rules.some((r) => r.spec.id === opts.rule)) {
          throw new Error(`no rule "${opts.rule}" in ${set.dir} (rules: ${set.rules.map((r) => r.spec.id).join(', ') || 'none'})`);
        }
      }
      // A backtest reads history slice by slice, each slice garbage once evaluated: bounded as the service's heap is.
      limitHeapGrowth(config.HEAP_GROWTH_PERCENT);
      const locked = (err: Error) => (config.CLICKHOUSE_URL || !LOCKED.test(err.message) ? err : new Error(lockedMessage(config.DATA_DIR)));
      let storage: Storage;
      try {
        storage = createStorage(config);
      } catch (err) {
        throw locked(err as Error);
      }
      try {
        await requireTables(storage).catch((err: Error) => {
          throw locked(err);
        });
        let bar: Progress | null = null;
        const onSlice = (done: number, slices: number) => {
          bar ??= progress('回测 Backtest', slices, isPretty(config.LOG_FORMAT));
          if (done > 0) bar.advance(1);
          if (done === slices) bar.done();
        };
        const report = await backtest(storage, { current, candidate, ruleId: opts.rule, from: new Date(opts.from), to: new Date(opts.to), onSlice });
        console.log(opts.json ? JSON.stringify(report, null, 2) : formatBacktestReport(report));
      } finally {
        await storage.close();
      }
    });

  return rules;
}

/** What chdb says when another process (a running service) holds the embedded engine's data directory. */
const LOCKED = /CANNOT_OPEN_FILE|Cannot lock|Failed to create connection|already running/i;

function lockedMessage(dataDir: string): string {
  return [
    `回测需要独占内置 ClickHouse，但 ${dataDir} 正被运行中的清检服务使用。`,
    `The embedded ClickHouse in ${dataDir} is in use by a running Qingjian service; only one process can open it.`,
    'Stop the service (Ctrl-C in its terminal), run the backtest, then start the service again;',
    'or run the service on a ClickHouse server (CLICKHOUSE_URL) and give the backtest the same CLICKHOUSE_URL.',
  ].join('\n');
}

/** The rule set in `dir`, or null after printing its problems (exit code 1). */
async function loadOrReport(dir: string): Promise<RuleSet | null> {
  // loadRuleSet reads a missing directory as an empty rule set; on the command line that is a typo.
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) throw new Error(`${dir} is not a directory`);
  try {
    return await loadRuleSet(dir);
  } catch (err) {
    if (!(err instanceof RuleSetError)) throw err;
    reportProblems(err.problems);
    process.exitCode = 1;
    return null;
  }
}

/**
 * Where each year's days off come from, e.g. `holidays 2004-2025,2027 chinese-days` and
 * `holidays 2027 rules/calendar/2027.yaml 国办发明电〔2026〕N号`, then what is missing or provisional.
 */
function holidayCoverage(dir: string, calendar: HolidayCalendar, now: number): string[] {
  return withHolidayCalendar(calendar, () => {
    const last = Math.max(Number(calendarDate(now).slice(0, 4)) + 1, ...calendar.years.keys());
    const years = Array.from({ length: last + 1 - FIRST_YEAR }, (_, i) => FIRST_YEAR + i).map((year) => ({ year, ...holidaySources(year) }));
    const fromTables = spans(years.filter((y) => y.tables && !y.file).map((y) => y.year));
    return [
      ...(fromTables.length > 0 ? [`holidays ${fromTables.join(',')} chinese-days`] : []),
      ...years.flatMap(({ year, file, tables }) => (file
        ? [`holidays ${year} ${file.file} ${file.source}${file.provisional ? ' (provisional)' : ''}${tables ? ' (in place of chinese-days)' : ''}`]
        : [])),
      ...holidayWarnings(dir, now).map((w) => `warning: ${w.message}`),
    ];
  });
}

// chinese-days' tables begin in 2004; a calendar file may cover any year from 2000.
const FIRST_YEAR = 2000;

/** Consecutive years as ranges: 2004-2025 and 2027 for 2004, 2005, … 2025, 2027. */
function spans(years: number[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < years.length;) {
    let j = i;
    while (j + 1 < years.length && years[j + 1] === years[j]! + 1) j++;
    out.push(i === j ? `${years[i]}` : `${years[i]}-${years[j]}`);
    i = j + 1;
  }
  return out;
}

function reportProblems(problems: readonly Problem[]): void {
  for (const p of problems) console.error(formatProblem(p));
}

const DATE = /^\d{4}-\d\d-\d\d$/;
const INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/i;

/**
 * A commander parser for --from/--to: a date is a whole Asia/Shanghai day
 * (--from its first millisecond, --to its last), an RFC 3339 time is exact.
 */
function when(side: 'from' | 'to') {
  return (text: string): number => {
    if (DATE.test(text)) {
      const start = midnight(text);
      // Date.parse rolls 2026-02-30 over to March; a real date reads back the same.
      if (Number.isNaN(start) || calendarDate(start) !== text) throw new InvalidArgumentError(`${text} is not a calendar date`);
      return side === 'from' ? start : start + DAY - 1;
    }
    const ms = INSTANT.test(text) ? Date.parse(text) : NaN;
    if (Number.isNaN(ms)) throw new InvalidArgumentError('must be a date (YYYY-MM-DD) or an RFC 3339 time with an offset');
    return ms;
  };
}

/** Backtests read events, enterprises and agencies; without them ClickHouse's own error would not say what to do. */
async function requireTables(storage: Storage): Promise<void> {
  const missing = await missingTables(storage, ['events', 'enterprises', 'agencies']);
  if (missing.length > 0) {
    throw new Error(`storage has no ${missing.join(', ')} table(s): is DATA_DIR or CLICKHOUSE_URL right? (\`qingjian migrate\` creates them)`);
  }
}
