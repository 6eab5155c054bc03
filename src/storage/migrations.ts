import { createHash } from 'node:crypto';
import type { Storage } from './port.js';

/**
 * Versioned schema changes, applied in order at start and recorded in
 * `schema_migrations`. Every statement is idempotent (IF NOT EXISTS), so two
 * processes starting together against one server do no harm. Never edit an
 * applied migration: add a new one (a changed checksum stops the start).
 */
export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'events',
    statements: [
      // One row per event and company: a plan covering three companies is three
      // rows with one id, so every per-company scan reads one key range.
      // ReplacingMergeTree folds retried inserts of the same (company, time, id);
      // reads use FINAL (or count distinct ids) because folding happens at merge time.
      `CREATE TABLE IF NOT EXISTS events (
        id String,
        type LowCardinality(String),
        enterprise_id String,
        occurred_at DateTime64(3, 'UTC'),
        received_at DateTime64(3, 'UTC'),
        stored_at DateTime64(3, 'UTC') DEFAULT now64(3),
        region LowCardinality(String),
        source LowCardinality(String),
        agency_id LowCardinality(String),
        officer_ids Array(String),
        action LowCardinality(String),
        method LowCardinality(String),
        onsite Bool,
        plan_id String,
        urgent_reason LowCardinality(String),
        started_at Nullable(DateTime64(3, 'UTC')),
        ended_at Nullable(DateTime64(3, 'UTC')),
        outcome LowCardinality(String),
        window_start Nullable(Date),
        window_end Nullable(Date),
        mode LowCardinality(String),
        status LowCardinality(String),
        joint_agency_ids Array(String),
        category LowCardinality(String),
        channel LowCardinality(String),
        checkin_id String,
        payload String CODEC(ZSTD(3)),
        INDEX idx_id id TYPE bloom_filter(0.001) GRANULARITY 4,
        INDEX idx_agency agency_id TYPE bloom_filter(0.01) GRANULARITY 4
      )
      ENGINE = ReplacingMergeTree
      PARTITION BY toYYYYMM(occurred_at)
      ORDER BY (enterprise_id, occurred_at, id)`,
    ],
  },
  {
    version: 2,
    name: 'reference data',
    statements: [
      `CREATE TABLE IF NOT EXISTS enterprises (
        enterprise_id String,
        name String,
        region LowCardinality(String),
        credit_grade LowCardinality(String),
        exempt Bool,
        quiet_period String,
        updated_at DateTime64(3, 'UTC')
      )
      ENGINE = ReplacingMergeTree(updated_at)
      ORDER BY enterprise_id`,
      `CREATE TABLE IF NOT EXISTS agencies (
        agency_id String,
        name String,
        region LowCardinality(String),
        kind LowCardinality(String),
        updated_at DateTime64(3, 'UTC')
      )
      ENGINE = ReplacingMergeTree(updated_at)
      ORDER BY agency_id`,
    ],
  },
];

const checksum = (m: Migration) => createHash('sha256').update(m.statements.join('\n;\n')).digest('hex');

const LEDGER = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version UInt32,
  name String,
  checksum String,
  applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = ReplacingMergeTree ORDER BY version`;

interface Applied {
  version: number;
  checksum: string;
}

async function appliedMigrations(storage: Storage): Promise<Applied[]> {
  await storage.command(LEDGER);
  return storage.query<Applied>('SELECT version, checksum FROM schema_migrations FINAL ORDER BY version');
}

/** Migrations the store has not recorded yet; throws if a recorded one was edited. */
export async function pendingMigrations(storage: Storage, all = MIGRATIONS): Promise<Migration[]> {
  const applied = new Map((await appliedMigrations(storage)).map((a) => [Number(a.version), a.checksum]));
  for (const m of all) {
    const recorded = applied.get(m.version);
    if (recorded !== undefined && recorded !== checksum(m)) {
      throw new Error(`migration ${m.version} (${m.name}) was changed after it was applied; add a new migration instead`);
    }
  }
  return all.filter((m) => !applied.has(m.version));
}

/** Applies what is pending, in version order; returns the versions applied now. */
export async function migrate(storage: Storage, all = MIGRATIONS): Promise<number[]> {
  const done: number[] = [];
  for (const m of await pendingMigrations(storage, all)) {
    for (const statement of m.statements) await storage.command(statement);
    await storage.insert('schema_migrations', [{ version: m.version, name: m.name, checksum: checksum(m) }]);
    done.push(m.version);
  }
  return done;
}
