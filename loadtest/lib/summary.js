/**
 * The end-of-run report, from k6's summary data (`handleSummary(data)`): the
 * k6 script and its Node twin both build that shape and print it with this
 * function, so both print the same figures. Plain JavaScript, no imports, and
 * nothing locale-dependent: k6's engine (Sobek) has no Intl, and its
 * `Number.prototype.toLocaleString` is `toString`, which reads a locale argument
 * as a radix and throws (loadtest/eslint.config.js refuses both).
 */

const fmtMs = (v) => (v === undefined || v === null ? '—' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`);
/** 12345.6 → "12,346" (thousands grouped by hand: see above). */
function fmtInt(v) {
  const digits = String(Math.abs(Math.round(v)));
  let grouped = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = grouped.length; i < digits.length; i += 3) grouped += `,${digits.slice(i, i + 3)}`;
  return (Math.round(v) < 0 ? '-' : '') + grouped;
}
const pad = (text, width) => (text.length >= width ? text : text + ' '.repeat(width - text.length));

function metricValue(metric, stat) {
  if (!metric) return undefined;
  return metric.values[stat];
}

/** The observed value a threshold expression was judged on, e.g. "p(99)=12.3 ms". */
function observed(metric, expression) {
  const stat = expression.replace(/\s/g, '').match(/^(avg|min|max|med|count|rate|value|p\(\d+(?:\.\d+)?\))/)?.[1];
  if (!stat || !metric) return '';
  const value = metric.values[stat];
  if (value === undefined) return '';
  if (metric.type === 'trend') return `${stat}=${fmtMs(value)}`;
  if (stat === 'rate' && metric.type === 'rate') return `rate=${(value * 100).toFixed(3)}%`;
  return `${stat}=${Number.isInteger(value) ? fmtInt(value) : value.toFixed(2)}`;
}

export function thresholdLines(data) {
  const lines = [];
  for (const name of Object.keys(data.metrics).sort()) {
    const metric = data.metrics[name];
    for (const [expression, result] of Object.entries(metric.thresholds || {})) {
      lines.push(`  ${result.ok ? '✓' : '✗'} ${pad(name, 46)} ${pad(`'${expression}'`, 16)} ${observed(metric, expression)}`);
    }
  }
  return lines;
}

export function thresholdsPassed(data) {
  checkShape(data);
  return Object.values(data.metrics).every((m) => Object.values(m.thresholds || {}).every((t) => t.ok));
}

/**
 * k6 hands handleSummary this shape unless run with `--new-machine-readable-summary` (k6 ≥ v1.0), whose data
 * has no `metrics` map: say so rather than fail on a missing property.
 */
function checkShape(data) {
  if (!data || typeof data.metrics !== 'object' || data.metrics === null) {
    throw new Error('handleSummary: the summary data has no `metrics` map; run k6 without --new-machine-readable-summary (K6_NEW_MACHINE_READABLE_SUMMARY)');
  }
}

export function formatSummary(data) {
  checkShape(data);
  const m = data.metrics;
  const setup = data.setup_data || {};
  const durations = setup.durations || {};
  const lines = [];
  lines.push('', `清检 Qingjian load test — run ${setup.run ? setup.run.id : '?'}`, '');
  lines.push('THRESHOLDS', ...thresholdLines(data), '');
  lines.push('FIGURES');
  for (const scenario of ['ingest_single', 'ingest_batch']) {
    const acked = metricValue(m[`events_acked{scenario:${scenario}}`], 'count');
    const http = m[`http_req_duration{scenario:${scenario}}`];
    if (acked === undefined && !http) continue;
    const rate = acked !== undefined && durations[scenario] ? `${fmtInt(acked / durations[scenario])} events/s` : '';
    lines.push(`  ${pad(scenario, 14)} ${pad(`${fmtInt(acked || 0)} events acknowledged`, 30)} ${pad(rate, 18)} HTTP p50 ${fmtMs(metricValue(http, 'med'))}  p99 ${fmtMs(metricValue(http, 'p(99)'))}`);
  }
  const reads = m['http_req_duration{scenario:reads}'];
  if (reads) lines.push(`  ${pad('reads', 14)} ${pad(`${fmtInt(metricValue(reads, 'count') || 0)} requests`, 30)} ${pad('', 18)} HTTP p50 ${fmtMs(metricValue(reads, 'med'))}  p99 ${fmtMs(metricValue(reads, 'p(99)'))}`);
  const latency = m.alert_latency;
  if (latency) {
    lines.push(`  event → alert on a WebSocket listener: p50 ${fmtMs(latency.values.med)}, p90 ${fmtMs(latency.values['p(90)'])}, p99 ${fmtMs(latency.values['p(99)'])}, max ${fmtMs(latency.values.max)} (${fmtInt(metricValue(m.alerts_received, 'count') || 0)} receipts)`);
  }
  const count = (name) => fmtInt(metricValue(m[name], 'count') || 0);
  lines.push(`  sent / acknowledged: events ${count('events_sent')} / ${count('events_acked')}, alert triggers ${count('triggers_sent')} / ${count('triggers_acked')}, complaints ${count('complaints_sent')} / ${count('complaints_acked')}`);
  const failed = m.http_req_failed;
  lines.push(`  HTTP requests failed: ${failed ? `${fmtInt(failed.values.passes)} of ${fmtInt(failed.values.passes + failed.values.fails)}` : '0'}; dropped iterations: ${count('dropped_iterations')}`);
  lines.push(`  feed connections: failed ${count('feed_connect_failed')}, closed by the server ${count('feed_dropped')}; alerts the listeners missed: ${count('feed_alerts_missed')}`);
  lines.push('', thresholdsPassed(data) ? 'result: every threshold met' : 'result: THRESHOLDS FAILED', '');
  return lines.join('\n');
}
