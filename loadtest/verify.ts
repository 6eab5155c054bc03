/**
 * After a load run: did Qingjian keep what it acknowledged, and raise exactly
 * the alerts the traffic must raise? Reads the run's summary (k6's
 * handleSummary JSON or the Node twin's, same shape) and ClickHouse:
 *
 * - stored rows = events acknowledged (one row per event: each names one company), none twice;
 * - `no-plan` alerts = alert triggers acknowledged, one per trigger company, and no alert of any other rule
 *   for the run's companies;
 * - 12345 tickets = complaints acknowledged.
 *
 * A request that failed may still have been stored (the answer was lost), so
 * with failures the counts must lie between acknowledged and sent.
 *
 *   npm run load:verify -- --summary loadtest/results/summary.json \
 *     --clickhouse-url http://localhost:8123 --user qingjian --password … --database qingjian
 *   npm run load:verify -- --summary … --data-dir ./data        (the embedded engine, service stopped)
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createEmbeddedStorage } from '../src/storage/embedded.js';
import { createServerStorage } from '../src/storage/server.js';
import type { Storage } from '../src/storage/index.js';
import { toClickHouseTime } from '../src/storage/index.js';
import type { SummaryData } from './lib/summary.js';
import { TRIGGER_AGE_MS, type Run } from './lib/traffic.js';

export interface Check {
  what: string;
  expected: string;
  found: number;
  ok: boolean;
}

const count = (summary: SummaryData, name: string) => summary.metrics[name]?.values.count ?? 0;

function between(what: string, found: number, acked: number, sent: number): Check {
  return { what, expected: acked === sent ? `${acked}` : `${acked}–${sent}`, found, ok: found >= acked && found <= sent };
}

export async function verifyRun(storage: Storage, summary: SummaryData): Promise<Check[]> {
  const run = summary.setup_data?.run as Run | undefined;
  if (!run) throw new Error('the summary holds no setup_data.run: not a Qingjian load-test summary');
  const prefix = `lt-${run.id}-`;
  // A trigger's event time is TRIGGER_AGE_MS before it was sent, and so is its alert's first_seen_at.
  const since = toClickHouseTime(new Date(run.started_at - TRIGGER_AGE_MS));
  const [rows] = await storage.query<{ rows: string; ids: string }>(
    'SELECT count() AS rows, uniqExact(id) AS ids FROM events FINAL WHERE startsWith(id, {prefix:String})', { prefix });
  const alerts = await storage.query<{ rule_id: string; alerts: string; companies: string; non_trigger: string }>(
    `SELECT rule_id, count() AS alerts, uniqExact(enterprise_id) AS companies,
            countIf(substring(enterprise_id, 11, 1) != '1') AS non_trigger
       FROM alerts FINAL
      WHERE substring(enterprise_id, 9, 2) = {nonce:String} AND first_seen_at >= {since:DateTime64(3, 'UTC')}
      GROUP BY rule_id`, { nonce: run.nonce, since });
  const [tickets] = await storage.query<{ tickets: string }>(
    "SELECT count() AS tickets FROM tickets FINAL WHERE source = 'complaint' AND startsWith(source_id, {prefix:String})", { prefix });

  const noPlan = alerts.find((a) => a.rule_id === 'no-plan');
  const others = alerts.filter((a) => a.rule_id !== 'no-plan').reduce((n, a) => n + Number(a.alerts), 0);
  return [
    between('stored rows (events FINAL)', Number(rows!.rows), count(summary, 'events_acked'), count(summary, 'events_sent')),
    { what: 'events stored more than once', expected: '0', found: Number(rows!.rows) - Number(rows!.ids), ok: rows!.rows === rows!.ids },
    between('no-plan alerts', Number(noPlan?.alerts ?? 0), count(summary, 'triggers_acked'), count(summary, 'triggers_sent')),
    {
      what: 'no-plan alerts per trigger company (companies with one)', expected: `${noPlan?.alerts ?? 0}`,
      found: Number(noPlan?.companies ?? 0), ok: Number(noPlan?.companies ?? 0) === Number(noPlan?.alerts ?? 0) && Number(noPlan?.non_trigger ?? 0) === 0,
    },
    { what: 'alerts of any other rule', expected: '0', found: others, ok: others === 0 },
    between('12345 tickets for complaints', Number(tickets!.tickets), count(summary, 'complaints_acked'), count(summary, 'complaints_sent')),
  ];
}

export function formatChecks(checks: Check[]): string {
  const lines = ['VERIFY (ClickHouse after the run)'];
  for (const c of checks) lines.push(`  ${c.ok ? '✓' : '✗'} ${c.what.padEnd(58)} expected ${c.expected.padStart(9)}  found ${String(c.found).padStart(9)}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      summary: { type: 'string', default: 'loadtest/results/summary.json' },
      'clickhouse-url': { type: 'string' }, user: { type: 'string', default: 'default' }, password: { type: 'string', default: '' },
      database: { type: 'string', default: 'default' }, 'data-dir': { type: 'string' },
    },
  });
  const summary = JSON.parse(readFileSync(values.summary!, 'utf8')) as SummaryData;
  const storage = values['clickhouse-url']
    ? createServerStorage({ url: values['clickhouse-url'], database: values.database!, username: values.user!, password: values.password! })
    : createEmbeddedStorage(join(values['data-dir'] ?? './data', 'clickhouse'), values.database!);
  try {
    const checks = await verifyRun(storage, summary);
    process.stdout.write(`${formatChecks(checks)}\n`);
    process.exitCode = checks.every((c) => c.ok) ? 0 : 1;
  } finally {
    await storage.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
