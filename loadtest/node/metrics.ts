/**
 * k6's metric model, enough to judge the scenario file's thresholds the way
 * k6 does and to hand `formatSummary` the same data k6's handleSummary gets:
 * trends, counters and rates, tagged samples, and sub-metrics named
 * `metric{tag:value,...}` (created for every threshold that names one).
 */
import type { SummaryData, SummaryMetric } from '../lib/summary.js';
import { Histogram } from './histogram.js';

type Kind = 'trend' | 'counter' | 'rate';
export type Tags = Record<string, string>;

interface Series {
  kind: Kind;
  time: boolean;
  histogram: Histogram;
  count: number;
  nonZero: number;
}

const KINDS: Record<string, { kind: Kind; time: boolean }> = {
  http_req_duration: { kind: 'trend', time: true },
  http_req_failed: { kind: 'rate', time: false },
  http_reqs: { kind: 'counter', time: false },
  iterations: { kind: 'counter', time: false },
  dropped_iterations: { kind: 'counter', time: false },
  alert_latency: { kind: 'trend', time: true },
  alerts_received: { kind: 'counter', time: false },
  feed_connect_failed: { kind: 'counter', time: false },
  feed_dropped: { kind: 'counter', time: false },
  feed_alerts_missed: { kind: 'counter', time: false },
  events_sent: { kind: 'counter', time: false },
  events_acked: { kind: 'counter', time: false },
  triggers_sent: { kind: 'counter', time: false },
  triggers_acked: { kind: 'counter', time: false },
  complaints_sent: { kind: 'counter', time: false },
  complaints_acked: { kind: 'counter', time: false },
};

/** `name{a:b,c:d}` → name and tag filter. */
export function parseMetricKey(key: string): { name: string; tags: Tags } {
  const match = key.match(/^([A-Za-z_][A-Za-z0-9_]*)(?:\{(.*)\})?$/);
  if (!match) throw new Error(`threshold metric '${key}': not a metric name with optional {tag:value} filters`);
  const tags: Tags = {};
  for (const part of (match[2] ?? '').split(',').filter(Boolean)) {
    const at = part.indexOf(':');
    if (at < 1) throw new Error(`threshold metric '${key}': tag filter '${part}' must be tag:value`);
    tags[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  return { name: match[1]!, tags };
}

const OPERATORS: Record<string, (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b, '<=': (a, b) => a <= b, '>': (a, b) => a > b, '>=': (a, b) => a >= b,
  '==': (a, b) => a === b, '===': (a, b) => a === b, '!=': (a, b) => a !== b,
};

/** A k6 threshold expression: `p(99)<250`, `rate<0.01`, `count==0`, `avg<=100`. */
export function parseThreshold(expression: string): { stat: string; op: string; value: number } {
  const match = expression.replace(/\s/g, '').match(/^(avg|min|max|med|count|rate|value|p\((\d+(?:\.\d+)?)\))(<=|>=|===|==|!=|<|>)(-?\d+(?:\.\d+)?)$/);
  if (!match) throw new Error(`threshold '${expression}': expected e.g. p(99)<250, rate<0.01 or count==0`);
  return { stat: match[1]!, op: match[3]!, value: Number(match[4]) };
}

export class Metrics {
  private readonly series = new Map<string, Series>();
  private readonly filters = new Map<string, { name: string; tags: Tags }>();

  constructor(private readonly thresholds: Record<string, string[]>) {
    for (const key of Object.keys(thresholds)) {
      const parsed = parseMetricKey(key);
      if (!KINDS[parsed.name]) throw new Error(`threshold metric '${key}': the Node twin does not record '${parsed.name}'`);
      for (const expression of thresholds[key]!) parseThreshold(expression);
      if (Object.keys(parsed.tags).length > 0) this.filters.set(key, parsed);
    }
  }

  /** Adds a sample to the metric and to every sub-metric whose tags it carries. */
  add(name: string, value: number, tags: Tags = {}): void {
    this.addTo(name, name, value);
    for (const [key, filter] of this.filters) {
      if (filter.name === name && Object.entries(filter.tags).every(([k, v]) => tags[k] === v)) this.addTo(key, name, value);
    }
  }

  /** Merges a histogram recorded elsewhere (the listeners' process) into a trend. */
  mergeTrend(name: string, histogram: Histogram): void {
    this.seriesOf(name, name).histogram.merge(histogram);
  }

  private seriesOf(key: string, name: string): Series {
    let s = this.series.get(key);
    if (!s) {
      const { kind, time } = KINDS[name] ?? { kind: 'counter', time: false };
      s = { kind, time, histogram: new Histogram(), count: 0, nonZero: 0 };
      this.series.set(key, s);
    }
    return s;
  }

  private addTo(key: string, name: string, value: number): void {
    const s = this.seriesOf(key, name);
    if (s.kind === 'trend') s.histogram.add(value);
    else if (s.kind === 'rate') {
      s.count++;
      if (value) s.nonZero++;
    } else s.count += value;
  }

  /** k6's summary data (metrics with values and judged thresholds). */
  summary(testRunDurationMs: number, setupData: Record<string, unknown>): SummaryData {
    const metrics: Record<string, SummaryMetric> = {};
    const keys = new Set([...this.series.keys(), ...Object.keys(this.thresholds)]);
    for (const key of keys) {
      const name = parseMetricKey(key).name;
      const s = this.seriesOf(key, name);
      const values: Record<string, number> = s.kind === 'trend' ? { ...s.histogram.trendValues(), ...percentilesNamed(this.thresholds[key], s.histogram) }
        : s.kind === 'rate' ? { rate: s.count ? s.nonZero / s.count : 0, passes: s.nonZero, fails: s.count - s.nonZero }
          : { count: s.count, rate: s.count / (testRunDurationMs / 1000) };
      const metric: SummaryMetric = { type: s.kind, contains: s.time ? 'time' : 'default', values };
      const expressions = this.thresholds[key];
      if (expressions) metric.thresholds = Object.fromEntries(expressions.map((e) => [e, { ok: judge(values, e) }]));
      metrics[key] = metric;
    }
    return { metrics, setup_data: setupData, state: { testRunDurationMs } };
  }
}

/** k6 judges any percentile a threshold names, not only those of the summary. */
function percentilesNamed(expressions: string[] | undefined, histogram: Histogram): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of expressions ?? []) {
    const { stat } = parseThreshold(e);
    const p = stat.match(/^p\((.+)\)$/)?.[1];
    if (p !== undefined) out[stat] = histogram.percentile(Number(p));
  }
  return out;
}

function judge(values: Record<string, number>, expression: string): boolean {
  const { stat, op, value } = parseThreshold(expression);
  const observed = values[stat];
  // k6 fails a threshold on a statistic the metric does not have.
  return observed !== undefined && OPERATORS[op]!(observed, value);
}
