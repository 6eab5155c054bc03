import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DashboardCursorSync, FieldColorModeId, ThresholdsMode, VariableHide, VariableRefresh, VariableSort,
  type Dashboard,
} from '@grafana/schema';
import { z } from 'zod';

/**
 * Test support for the Grafana boards in dashboards/: a zod model of the parts
 * of Grafana's dashboard JSON the boards use (checked against Grafana's own
 * types at compile time), panel and query iteration, and the expansion a query
 * goes through before it reaches ClickHouse — Grafana's template variables in
 * the browser, then the ClickHouse plugin's macros in its backend — so tests
 * can run the exact SQL Grafana would send.
 */

/** The datasources dashboards/provisioning/datasources/qingjian.yaml provisions: uid → plugin type. */
export const DATASOURCES = { clickhouse: 'grafana-clickhouse-datasource', prometheus: 'prometheus' } as const;

/** Visualisations that ship with Grafana (panel plugin ids), plus `row`. */
export const PANEL_TYPES = [
  'timeseries', 'barchart', 'piechart', 'stat', 'gauge', 'bargauge', 'table', 'heatmap', 'histogram', 'text',
  'state-timeline', 'status-history', 'trend', 'xychart', 'logs', 'news', 'dashlist', 'alertlist', 'annolist',
  'nodeGraph', 'traces', 'flamegraph', 'geomap', 'canvas', 'candlestick',
] as const;

// ---------- the model ----------

const clickhouseRef = z.object({ type: z.literal(DATASOURCES.clickhouse), uid: z.literal('clickhouse') });
const prometheusRef = z.object({ type: z.literal(DATASOURCES.prometheus), uid: z.literal('prometheus') });
const datasourceRef = z.union([clickhouseRef, prometheusRef]);

/**
 * A query of the official ClickHouse plugin (v4) in its SQL editor. `format` is
 * what its backend (sqlds) reads: 0 time series (long frames become one series
 * per string column value), 1 table; `queryType` is the editor's matching choice.
 */
export const clickhouseTarget = z.object({
  refId: z.string().min(1),
  datasource: clickhouseRef,
  editorType: z.literal('sql'),
  format: z.union([z.literal(0), z.literal(1)]),
  queryType: z.enum(['timeseries', 'table']),
  rawSql: z.string().min(1),
}).refine((t) => (t.format === 0) === (t.queryType === 'timeseries'), { message: 'format 0 goes with queryType timeseries, 1 with table' });

export const prometheusTarget = z.object({
  refId: z.string().min(1),
  datasource: prometheusRef,
  expr: z.string().min(1),
  legendFormat: z.string().optional(),
  editorMode: z.enum(['code', 'builder']).optional(),
  range: z.boolean().optional(),
  instant: z.boolean().optional(),
  format: z.enum(['time_series', 'table', 'heatmap']).optional(),
});

const target = z.union([clickhouseTarget, prometheusTarget]);
export type ClickHouseTarget = z.infer<typeof clickhouseTarget>;
export type PrometheusTarget = z.infer<typeof prometheusTarget>;

const gridPos = z.object({
  x: z.number().int().min(0).max(23),
  y: z.number().int().min(0),
  w: z.number().int().min(1).max(24),
  h: z.number().int().min(1),
}).refine((g) => g.x + g.w <= 24, { message: 'x + w must not exceed the 24-column grid' });
type GridPos = z.infer<typeof gridPos>;

const thresholdsConfig = z.object({
  mode: z.enum(ThresholdsMode),
  steps: z.array(z.object({ color: z.string(), value: z.number().nullable() })).min(1),
});

const fieldConfigSource = z.object({
  defaults: z.object({
    unit: z.string().optional(),
    decimals: z.number().int().min(0).optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    displayName: z.string().optional(),
    noValue: z.string().optional(),
    color: z.object({ mode: z.enum(FieldColorModeId), fixedColor: z.string().optional() }).optional(),
    thresholds: thresholdsConfig.optional(),
    custom: z.record(z.string(), z.unknown()).optional(),
  }),
  overrides: z.array(z.object({
    matcher: z.object({ id: z.string(), options: z.unknown().optional() }),
    properties: z.array(z.object({ id: z.string(), value: z.unknown().optional() })),
  })),
});

const panelCommon = {
  id: z.number().int().positive(),
  title: z.string().min(1),
  description: z.string().optional(),
  gridPos,
};

export const vizPanel = z.object({
  ...panelCommon,
  type: z.enum(PANEL_TYPES),
  datasource: datasourceRef.optional(),
  targets: z.array(target).optional(),
  fieldConfig: fieldConfigSource.optional(),
  options: z.record(z.string(), z.unknown()).optional(),
  transformations: z.array(z.object({ id: z.string(), options: z.record(z.string(), z.unknown()) })).optional(),
});
export type VizPanel = z.infer<typeof vizPanel>;

const rowPanel = z.object({
  ...panelCommon,
  type: z.literal('row'),
  collapsed: z.boolean(),
  panels: z.array(vizPanel),
});

const variableOption = z.object({
  text: z.union([z.string(), z.array(z.string())]),
  value: z.union([z.string(), z.array(z.string())]),
  selected: z.boolean().optional(),
});

export const variableModel = z.object({
  type: z.enum(['query', 'adhoc', 'groupby', 'constant', 'datasource', 'interval', 'textbox', 'custom', 'system', 'snapshot', 'switch']),
  name: z.string().regex(/^\w+$/, 'variable names are word characters'),
  label: z.string().optional(),
  description: z.string().optional(),
  datasource: datasourceRef.optional(),
  // The ClickHouse plugin stores a variable query as { editorType, rawSql } (a bare string in old versions).
  query: z.union([z.string(), z.object({ editorType: z.literal('sql'), rawSql: z.string().min(1) })]).optional(),
  definition: z.string().optional(),
  includeAll: z.boolean().optional(),
  allValue: z.string().optional(),
  allowCustomValue: z.boolean().optional(),
  multi: z.boolean().optional(),
  refresh: z.enum(VariableRefresh).optional(),
  sort: z.enum(VariableSort).optional(),
  hide: z.enum(VariableHide).optional(),
  current: variableOption.optional(),
  options: z.array(variableOption).optional(),
  regex: z.string().optional(),
  skipUrlSync: z.boolean().optional(),
});
export type VariableModel = z.infer<typeof variableModel>;

const dashboardLink = z.object({
  type: z.enum(['link', 'dashboards']),
  title: z.string(),
  tags: z.array(z.string()),
  asDropdown: z.boolean(),
  icon: z.string(),
  includeVars: z.boolean(),
  keepTime: z.boolean(),
  targetBlank: z.boolean(),
  tooltip: z.string(),
  url: z.string().optional(),
});

/** The dashboard's shape, without the cross-panel checks (tests iterate boards whose layout is wrong too). */
export const dashboardShape = z.object({
  uid: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'Grafana uids are at most 40 of [A-Za-z0-9_-]'),
  title: z.string().min(1),
  description: z.string().optional(),
  tags: z.array(z.string()).optional(),
  schemaVersion: z.number().int().min(39),
  version: z.number().int().optional(),
  editable: z.boolean().optional(),
  graphTooltip: z.enum(DashboardCursorSync).optional(),
  fiscalYearStartMonth: z.number().int().min(0).max(11).optional(),
  liveNow: z.boolean().optional(),
  weekStart: z.string().optional(),
  refresh: z.string().optional(),
  timezone: z.string().optional(),
  time: z.object({ from: z.string().min(1), to: z.string().min(1) }),
  timepicker: z.object({ refresh_intervals: z.array(z.string()).optional(), hidden: z.boolean().optional() }).optional(),
  links: z.array(dashboardLink).optional(),
  templating: z.object({ list: z.array(variableModel) }),
  panels: z.array(z.discriminatedUnion('type', [rowPanel, vizPanel])),
});

/** A dashboard Grafana loads as intended: unique panel ids, no overlapping panels, one datasource per panel, unique refIds. */
export const dashboardModel = dashboardShape.superRefine((d, ctx) => {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const seen = new Set<number>();
  d.panels.forEach((panel, i) => {
    const nested = panel.type === 'row' ? panel.panels.map((p, j) => [p, ['panels', i, 'panels', j]] as const) : [];
    for (const [p, path] of [[panel, ['panels', i]] as const, ...nested]) {
      if (seen.has(p.id)) issue([...path, 'id'], `panel id ${p.id} is used twice`);
      seen.add(p.id);
    }
    if (panel.type === 'row') return;
    const refIds = (panel.targets ?? []).map((t) => t.refId);
    if (new Set(refIds).size !== refIds.length) issue(['panels', i, 'targets'], `refIds repeat: ${refIds.join(', ')}`);
    // Grafana sends every target to the panel's datasource unless the panel is "mixed".
    (panel.targets ?? []).forEach((t, j) => {
      if (t.datasource.uid !== panel.datasource?.uid) issue(['panels', i, 'targets', j, 'datasource'], `differs from the panel's datasource`);
    });
    if (panel.type !== 'text' && (panel.targets ?? []).length === 0) issue(['panels', i, 'targets'], 'a data panel needs at least one query');
  });
  // Expanded rows keep their panels at the top level, so every top-level panel shares one grid.
  d.panels.forEach((a, i) => d.panels.slice(i + 1).forEach((b, k) => {
    if (overlap(a.gridPos, b.gridPos)) issue(['panels', i + 1 + k, 'gridPos'], `overlaps panel ${a.id} (${a.title})`);
  }));
});
export type DashboardModel = z.infer<typeof dashboardModel>;

/** Compile-time proof that whatever the model accepts is a dashboard by Grafana's own types: `tsc` fails if they drift apart. */
export const asGrafanaDashboard = (d: DashboardModel): Dashboard => d;

const overlap = (a: GridPos, b: GridPos) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

// ---------- files and iteration ----------

export interface DashboardFile {
  file: string;
  json: unknown;
}

/** Every `*.json` directly in `dir` (Grafana's file provider reads the folder the same way), parsed. */
export function loadDashboardFiles(dir: string): DashboardFile[] {
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
    .map((file) => ({ file, json: JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown }));
}

/** Panels that show data, rows' nested panels included. */
export function vizPanels(d: DashboardModel): VizPanel[] {
  return d.panels.flatMap((p) => (p.type === 'row' ? p.panels : [p]));
}

export interface PanelQuery<T> {
  /** `board file › panel title › refId`, for messages. */
  where: string;
  panel: VizPanel;
  target: T;
}

export function clickhouseQueries(file: string, d: DashboardModel): PanelQuery<ClickHouseTarget>[] {
  return vizPanels(d).flatMap((panel) => (panel.targets ?? [])
    .filter((t): t is ClickHouseTarget => 'rawSql' in t)
    .map((target) => ({ where: `${file} › ${panel.title} › ${target.refId}`, panel, target })));
}

export function prometheusQueries(file: string, d: DashboardModel): PanelQuery<PrometheusTarget>[] {
  return vizPanels(d).flatMap((panel) => (panel.targets ?? [])
    .filter((t): t is PrometheusTarget => 'expr' in t)
    .map((target) => ({ where: `${file} › ${panel.title} › ${target.refId}`, panel, target })));
}

/** The SQL of a ClickHouse query variable, whichever way it is stored. */
export function variableSql(v: VariableModel): string | undefined {
  if (v.datasource?.uid !== 'clickhouse' || v.query === undefined) return undefined;
  return typeof v.query === 'string' ? v.query : v.query.rawSql;
}

// ---------- Grafana's template variables ----------

/** Grafana's own pattern (public/app/features/variables/utils.ts): `$var`, `[[var:fmt]]`, `${var.path:fmt}`. */
const VARIABLE_PATTERN = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

export interface VariableReference {
  name: string;
  format: string | undefined;
}

export function variableReferences(text: string): VariableReference[] {
  return [...text.matchAll(VARIABLE_PATTERN)].map((m) => ({ name: (m[1] ?? m[2] ?? m[4])!, format: m[3] ?? m[6] }));
}

/** Variables Grafana defines itself (not every one makes sense in every datasource). */
export const GRAFANA_BUILTINS = new Set([
  '__from', '__to', '__interval', '__interval_ms', '__rate_interval', '__rate_interval_ms', '__range', '__range_s',
  '__range_ms', '__dashboard', '__user', '__org', '__timezone', '__name',
]);

/** The value a variable is set to: an option's value, or All. */
export type VariableValue = string | typeof ALL;
export const ALL = Symbol('All');

/**
 * A string literal as Grafana's `sqlstring` format writes one (scenes' sqlStringFormatter): `'` doubled, `"`
 * backslashed. Backslashes are left alone, and ClickHouse reads them as escapes: values must not contain any.
 */
export const sqlString = (value: string) => `'${value.replace(/'|"/g, (c) => (c === "'" ? "''" : '\\"'))}'`;

/**
 * Replaces template variables as Grafana's templateSrv does before a query
 * leaves the browser. All with a custom `allValue` is that text, unformatted
 * (Grafana's rule for custom all values); a chosen value is formatted by the
 * reference's format, or by the ClickHouse plugin's default (the value as is).
 * Names that are neither dashboard variables nor `builtins` stay as they are,
 * as in Grafana (macros such as `$__timeFilter` pass through to the backend).
 */
export function interpolate(
  text: string, variables: readonly VariableModel[], values: Record<string, VariableValue>, builtins: Record<string, string> = {},
): string {
  return text.replace(VARIABLE_PATTERN, (match, ...groups: (string | undefined)[]) => {
    const name = (groups[0] ?? groups[1] ?? groups[3])!;
    const format = groups[2] ?? groups[5];
    if (name in builtins) return builtins[name]!;
    const variable = variables.find((v) => v.name === name);
    if (!variable) return match;
    const value = values[name];
    if (value === undefined) throw new Error(`no value given for variable ${name}`);
    if (value === ALL) {
      if (variable.allValue === undefined) throw new Error(`${name}: All without a custom allValue is not modelled`);
      return variable.allValue;
    }
    switch (format) {
      case 'sqlstring': return sqlString(value);
      case 'raw': case undefined: return value;
      case 'singlequote': return `'${value.replaceAll("'", "\\'")}'`;
      default: throw new Error(`${name}: format ${format} is not modelled`);
    }
  });
}

// ---------- the ClickHouse plugin's macros ----------

export interface QueryRange {
  from: Date;
  to: Date;
  /** What Grafana sends as the query interval ($__interval). */
  intervalMs: number;
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);
const dateTime = (d: Date) => `toDateTime(${seconds(d)})`;
const dateTime64 = (d: Date) => `fromUnixTimestamp64Milli(${d.getTime()})`;
const date = (d: Date) => `toDate('${d.toISOString().slice(0, 10)}')`;

/** grafana/clickhouse-datasource pkg/macros/macros.go, by name: [arity, expansion]. */
const MACROS: Record<string, [number, (args: string[], r: QueryRange) => string]> = {
  fromTime: [0, (_, r) => dateTime(r.from)],
  toTime: [0, (_, r) => dateTime(r.to)],
  fromTime_ms: [0, (_, r) => dateTime64(r.from)],
  toTime_ms: [0, (_, r) => dateTime64(r.to)],
  timeFilter: [1, ([c], r) => `${c} >= ${dateTime(r.from)} AND ${c} <= ${dateTime(r.to)}`],
  timeFilter_ms: [1, ([c], r) => `${c} >= ${dateTime64(r.from)} AND ${c} <= ${dateTime64(r.to)}`],
  dateFilter: [1, ([c], r) => `${c} >= ${date(r.from)} AND ${c} <= ${date(r.to)}`],
  dateTimeFilter: [2, ([d, t], r) => `(${d} >= ${date(r.from)} AND ${d} <= ${date(r.to)}) AND (${t} >= ${dateTime(r.from)} AND ${t} <= ${dateTime(r.to)})`],
  dt: [2, ([d, t], r) => `(${d} >= ${date(r.from)} AND ${d} <= ${date(r.to)}) AND (${t} >= ${dateTime(r.from)} AND ${t} <= ${dateTime(r.to)})`],
  timeInterval: [1, ([c], r) => `toStartOfInterval(toDateTime(${c}), INTERVAL ${Math.max(Math.floor(r.intervalMs / 1000), 1)} second)`],
  timeInterval_ms: [1, ([c], r) => `toStartOfInterval(toDateTime64(${c}, 3), INTERVAL ${Math.max(r.intervalMs, 1)} millisecond)`],
  interval_s: [0, (_, r) => String(Math.max(Math.floor(r.intervalMs / 1000), 1))],
};
export const CLICKHOUSE_MACROS = new Set(Object.keys(MACROS).map((name) => `__${name}`));

// Arguments without parentheses or commas inside: older sqlds versions cut an argument list at the first `)`.
const MACRO_PATTERN = /\$__(\w+)(?:\(([^()]*)\))?/g;

/** Macro calls in a query with their argument text, to check arguments are plain columns. */
export function macroCalls(sql: string): { name: string; args: string[] }[] {
  return [...sql.matchAll(MACRO_PATTERN)].map((m) => ({ name: m[1]!, args: m[2] === undefined ? [] : m[2].split(',').map((a) => a.trim()) }));
}

/** Expands the plugin's macros the way its backend does after Grafana has replaced the variables. */
export function expandMacros(sql: string, range: QueryRange): string {
  return sql.replace(MACRO_PATTERN, (_match, name: string, argText: string | undefined) => {
    const macro = MACROS[name];
    if (!macro) throw new Error(`$__${name} is not a macro of the ClickHouse plugin's backend`);
    const args = argText === undefined ? [] : argText.split(',').map((a) => a.trim());
    if (args.length !== macro[0]) throw new Error(`$__${name} takes ${macro[0]} argument(s), got ${args.length}`);
    return macro[1](args, range);
  });
}

/** Grafana built-ins a ClickHouse query may use, as the browser fills them in. */
export function grafanaBuiltins(range: QueryRange): Record<string, string> {
  const rangeMs = range.to.getTime() - range.from.getTime();
  return {
    __from: String(range.from.getTime()),
    __to: String(range.to.getTime()),
    __interval_ms: String(range.intervalMs),
    __range_ms: String(rangeMs),
    __range_s: String(Math.floor(rangeMs / 1000)),
  };
}

/** The SQL Grafana and the ClickHouse plugin would send for `sql`, variables and macros expanded. */
export function expandClickHouse(
  sql: string, variables: readonly VariableModel[], values: Record<string, VariableValue>, range: QueryRange,
): string {
  return expandMacros(interpolate(sql, variables, values, grafanaBuiltins(range)), range);
}

// ---------- Prometheus ----------

const PROMQL_WORDS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'atan2', 'Inf', 'NaN', 'inf', 'nan',
]);

/**
 * Metric names in a PromQL expression: strings, label matchers, range
 * selectors, grouping clauses, variables and numbers removed, then every
 * identifier that is not a function call (name followed by `(`) or a keyword.
 */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ')
    .replace(/(?<![\w:])\d[\w.]*(?:e[+-]?\d+)?/gi, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][\w:]*/g)) {
    const callsFunction = /^\s*\(/.test(stripped.slice(m.index + m[0].length));
    if (!callsFunction && !PROMQL_WORDS.has(m[0])) names.add(m[0]);
  }
  return [...names];
}

