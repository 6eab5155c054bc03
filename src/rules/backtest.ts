import { calendarDate } from '../calendar/index.js';
import type { Storage } from '../storage/index.js';
import { agencyNames } from '../storage/tables/agencies.js';
import { eventsInSpans, rowsInSpans, rowsPerCompany, type CountBound, type EngineEventColumn, type Spans } from '../storage/tables/events.js';
import { judgeHere, ruleOf, type JudgedAlert, type SliceJudge, type SliceJudges, type SliceOutcome } from './backtest/slice.js';
import { ruleSetAt, startSliceThread } from './backtest/thread.js';
import { readCompanies } from './context.js';
import { anchorNeeds, anchorReach, eventFields, mergeNeeds } from './engine.js';
import type { RuleSet } from './load.js';

/**
 * Runs a rule (or an edited copy of it) over stored history without
 * notifying anyone or storing anything: the alerts it would have raised,
 * per day and per company, and how they differ from the current version.
 * History is read in slices of companies so memory stays bounded.
 */
export interface BacktestOptions {
  current: RuleSet;
  /** A rule set holding the edited rule; without it the current version is reported alone. */
  candidate?: RuleSet;
  ruleId: string;
  from: Date;
  to: Date;
  /** Decisions whose deadline is after this are still pending (default: now). */
  now?: number;
  /** About how many rows of history a slice of companies holds (up to three are in memory at once); default 150,000. */
  sliceRows?: number;
  /** Called once the number of slices is known, and after each slice (the CLI's progress bar). */
  onSlice?: (done: number, slices: number) => void;
}

export interface BacktestReport {
  rule_id: string;
  current_version: number;
  candidate_version: number | null;
  from: string;
  to: string;
  /** The companies read: of these regions (division-code prefixes; null: every region) ... */
  regions: string[] | null;
  /** ... and, when true, only those whose count could reach the rule's line (see `CountBound`). */
  bounded: boolean;
  companies: number;
  events_read: number;
  /** The columns of each event read: what the rule (and its candidate) reads (`eventFields`, src/rules/fields.ts). */
  columns: string[];
  ms: number;
  /** Alerts of the candidate when given, else of the current version. */
  alerts: number;
  by_variant: Array<{ variant: string; alerts: number }>;
  by_day: Array<{ day: string; alerts: number }>;
  by_company: Array<{ enterprise_id: string; name: string; alerts: number }>;
  diff: { added: number; removed: number; changed: number; unchanged: number; examples: { added: string[]; removed: string[]; changed: string[] } } | null;
}

const SLICE_ROWS = 150_000;
const SLICE_COMPANIES = 20_000;
const JUDGED_AHEAD = 2;
const THREAD_SLICES = 4;
const TOP_COMPANIES = 20;
const EXAMPLES = 5;

export async function backtest(storage: Storage, options: BacktestOptions): Promise<BacktestReport> {
  const started = performance.now();
  const current = ruleOf(options.current, options.ruleId);
  const candidate = options.candidate ? ruleOf(options.candidate, options.ruleId) : null;
  const rules = candidate ? [current, candidate] : [current];
  const anchors = { from: options.from.getTime(), to: options.to.getTime() };
  // Each slice is read with only the columns the rule (and its candidate) reads: fewer for the engine to write and for
  // the judge to decode and check (docs/performance.md).
  const columns = eventFields(rules);
  const decided = { ruleId: options.ruleId, anchors, now: options.now ?? Date.now(), columns };

  // Every region with its own parameters may need a different span; read the union.
  const regions = new Set(['', ...rules.flatMap((r) => (r.placement ?? []).map((o) => o.prefix))]);
  const spans = mergeNeeds([...regions].flatMap((region) => anchorNeeds(rules, region, anchors)));

  // Only companies where the rule (or its candidate) is in force can alert: the others are not read at all. Nor can
  // a company whose count, bounded in the storage, never reaches the least any alert needs (counting rules).
  const placed = rules.some((r) => r.placement === null) ? null : [...new Set(rules.flatMap((r) => r.placement!.map((p) => p.prefix)))];
  const reach = anchorReach(rules, anchors);
  const sliceRows = options.sliceRows ?? SLICE_ROWS;
  const preparing = prepareJudges(storage, options, decided, spans, sliceRows);
  const slices = await sliceCompanies(storage, { spans, regions: placed, ...(reach ? { reach } : {}) }, sliceRows)
    .catch((err: unknown) => {
      preparing.abandon();
      throw err;
    });
  const judges = await preparing.for(slices.length);
  const outcome = { current: [] as JudgedAlert[], candidate: [] as JudgedAlert[], companies: 0, events: 0 };
  const names = new Map<string, string>();
  const take = (judged: SliceOutcome) => {
    outcome.current.push(...judged.current);
    outcome.candidate.push(...judged.candidate);
    for (const [id, name] of judged.names) names.set(id, name);
    outcome.companies += judged.companies;
    outcome.events += judged.events;
  };
  options.onSlice?.(0, slices.length);
  try {
    // The engine reads slice after slice on its own threads while the ones read are judged; at most JUDGED_AHEAD
    // wait (each holds its rows), and they are taken in order.
    const waiting: Array<Promise<SliceOutcome>> = [];
    let judged = 0;
    const takeOldest = async () => {
      take(await waiting.shift()!);
      options.onSlice?.(++judged, slices.length);
    };
    for (const ids of slices) {
      if (waiting.length === JUDGED_AHEAD) await takeOldest();
      const { bytes, companies } = await readSlice(storage, ids, spans, columns);
      const judging = judges.judge(bytes, companies);
      // Awaited in its turn; one that fails meanwhile must not be left unhandled.
      judging.catch(() => undefined);
      waiting.push(judging);
    }
    while (waiting.length > 0) await takeOldest();
  } finally {
    await judges.close();
  }

  const reported = candidate ? outcome.candidate : outcome.current;
  return {
    rule_id: options.ruleId,
    current_version: current.spec.version,
    candidate_version: candidate?.spec.version ?? null,
    from: options.from.toISOString(),
    to: options.to.toISOString(),
    regions: placed,
    bounded: reach !== null,
    companies: outcome.companies,
    events_read: outcome.events,
    columns,
    ms: Math.round(performance.now() - started),
    alerts: reported.length,
    by_variant: tally(reported, (a) => a.variant).map(([variant, alerts]) => ({ variant, alerts })),
    by_day: tally(reported, (a) => calendarDate(Date.parse(a.first_seen_at))).sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([day, alerts]) => ({ day, alerts })),
    by_company: tally(reported, (a) => a.enterprise_id).slice(0, TOP_COMPANIES)
      .map(([enterprise_id, alerts]) => ({ enterprise_id, name: names.get(enterprise_id) ?? enterprise_id, alerts })),
    diff: candidate ? compare(outcome.current, outcome.candidate) : null,
  };
}

/**
 * The engine reads the next slice on its own threads while one is judged, either way. With many slices, a thread of
 * their own judges them, so that this one only asks for the next reads: no-plan's 34 slices took 43.5–44.0 s so,
 * 48.1–50.6 s judged here. For a few slices its start (0.3–0.7 s) costs more than it saves. It starts while the
 * engine plans the slices when the spans hold rows enough for many (one cheap count, of every region), and stops if
 * the companies read turn out to need fewer.
 */
function prepareJudges(
  storage: Storage, options: BacktestOptions, decided: Pick<SliceJudge, 'ruleId' | 'anchors' | 'now' | 'columns'>, spans: Spans, sliceRows: number,
) {
  const agencies = agencyNames(storage, {}).then((rows) => rows.map((r): [string, string] => [r.agency_id, r.name]));
  const thread = (signal?: AbortSignal) => agencies.then((names) => startSliceThread({
    ...decided, current: ruleSetAt(options.current), candidate: options.candidate ? ruleSetAt(options.candidate) : null, agencies: names,
  }, signal));
  const early = new AbortController();
  const starting = rowsInSpans(storage, { spans }).then(([row]) => (row!.n >= THREAD_SLICES * sliceRows ? thread(early.signal) : null));
  // Awaited later, or not at all: a failure meanwhile must not be left unhandled.
  agencies.catch(() => undefined);
  starting.catch(() => undefined);
  const abandon = () => {
    early.abort();
    void starting.then((started) => started?.close(), () => undefined);
  };
  return {
    abandon,
    async for(slices: number): Promise<SliceJudges> {
      if (slices >= THREAD_SLICES) return (await starting) ?? thread();
      abandon();
      return judgeHere({ ...decided, current: options.current, candidate: options.candidate ?? null, agencies: new Map(await agencies) });
    },
  };
}

// Slices of whole companies in id order, each about `sliceRows` rows and at most SLICE_COMPANIES ids: up to three
// are in memory at once (one read while JUDGED_AHEAD wait to be judged), and the embedded engine stops
// answering a query bound with an array of ~37,000 values or more (measured with chdb 3.4: 36,000 answer in 60 ms,
// 38,000 not within 20 s).
async function sliceCompanies(
  storage: Storage, companies: { spans: Spans; regions: readonly string[] | null; reach?: CountBound }, sliceRows: number,
): Promise<string[][]> {
  const slices: string[][] = [];
  let slice: string[] = [];
  let rows = 0;
  for (const { enterprise_id, n } of await rowsPerCompany(storage, companies)) {
    if (slice.length > 0 && (rows + n > sliceRows || slice.length === SLICE_COMPANIES)) {
      slices.push(slice);
      slice = [];
      rows = 0;
    }
    slice.push(enterprise_id);
    rows += n;
  }
  if (slice.length > 0) slices.push(slice);
  return slices;
}

/** A slice's events as the engine wrote them (for the slice thread to decode) and its companies' reference data. */
async function readSlice(storage: Storage, ids: readonly string[], spans: Spans, columns: readonly EngineEventColumn[]) {
  const { sql, values } = eventsInSpans.statement({ enterpriseIds: ids, spans, byCompany: true, columns });
  const [bytes, companies] = await Promise.all([storage.queryCompact(sql, values), readCompanies(storage, ids)]);
  // What the read freed (its FINAL and sort) goes back to the system now, not 5 s later: no-plan's peak RSS
  // 1,005-1,011 -> 939-952 MiB, 33.1-33.6 -> 34.0-35.4 s (docs/performance.md).
  await storage.releaseMemory();
  return { bytes, companies };
}

function tally<T>(items: readonly T[], key: (item: T) => string): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  // Ties in key order: the same history reports the same companies however it was sliced.
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function compare(current: readonly JudgedAlert[], candidate: readonly JudgedAlert[]): NonNullable<BacktestReport['diff']> {
  const before = new Map(current.map((a) => [a.fingerprint, a]));
  const after = new Map(candidate.map((a) => [a.fingerprint, a]));
  const added = [...after.keys()].filter((k) => !before.has(k));
  const removed = [...before.keys()].filter((k) => !after.has(k));
  const same = (a: JudgedAlert, b: JudgedAlert) =>
    a.variant === b.variant && a.severity === b.severity && a.count === b.count && a.window_end === b.window_end;
  const changed = [...after.keys()].filter((k) => before.has(k) && !same(before.get(k)!, after.get(k)!));
  const describe = (a: JudgedAlert) => `${a.enterprise_id} ${calendarDate(Date.parse(a.first_seen_at))} ${a.message_zh}`;
  return {
    added: added.length,
    removed: removed.length,
    changed: changed.length,
    unchanged: after.size - added.length - changed.length,
    examples: {
      added: added.slice(0, EXAMPLES).map((k) => describe(after.get(k)!)),
      removed: removed.slice(0, EXAMPLES).map((k) => describe(before.get(k)!)),
      changed: changed.slice(0, EXAMPLES).map((k) => `${describe(before.get(k)!)} → ${after.get(k)!.message_zh}`),
    },
  };
}

export function formatBacktestReport(r: BacktestReport): string {
  const version = r.candidate_version === null ? `v${r.current_version}` : `v${r.current_version} → candidate v${r.candidate_version}`;
  const lines = [
    `backtest ${r.rule_id} ${version}: ${calendarDate(Date.parse(r.from))} .. ${calendarDate(Date.parse(r.to))} (Shanghai dates)`,
    `  ${r.companies} companies, ${r.events_read} events read (${r.columns.length} columns each), ${r.alerts} alerts, ${r.ms} ms`,
    `  companies read: ${r.regions === null ? 'every region' : `where the rule is in force (${r.regions.join(', ') || 'nowhere'})`}${r.bounded ? ', whose count could reach its line' : ''}`,
    `  by variant: ${r.by_variant.map((v) => `${v.variant || '(main)'} ${v.alerts}`).join(', ') || 'none'}`,
    '  alerts per day:',
    ...r.by_day.map((d) => `    ${d.day}  ${String(d.alerts).padStart(5)}  ${'█'.repeat(Math.min(60, d.alerts))}`),
    '  companies with most alerts:',
    ...r.by_company.map((c) => `    ${c.enterprise_id}  ${String(c.alerts).padStart(4)}  ${c.name}`),
  ];
  if (r.diff) {
    lines.push(`  difference from v${r.current_version}: +${r.diff.added} added, -${r.diff.removed} removed, ${r.diff.changed} changed, ${r.diff.unchanged} unchanged`);
    for (const kind of ['added', 'removed', 'changed'] as const) {
      for (const example of r.diff.examples[kind]) lines.push(`    ${kind}: ${example}`);
    }
  }
  return lines.join('\n');
}
