import { createHash } from 'node:crypto';
import { renderStatements } from './cluster.js';
import type { ClusterTarget, Storage } from './port.js';

/**
 * Versioned schema changes, applied in order at start and recorded in
 * `schema_migrations`. Every statement is idempotent (IF NOT EXISTS), so two
 * processes starting together against one server do no harm. Never edit an
 * applied migration: add a new one (a changed checksum stops the start). *
 * Statements are written for one node. On a cluster (Storage.cluster) each is
 * rendered by `./cluster.ts` into replicated `x_local` and Distributed `x`
 * tables ON CLUSTER; the checksum is of the statements as written here, so
 * a migration has one checksum whichever way it was applied.
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
  {
    version: 3,
    name: 'alerts',
    statements: [
      // The current state of every alert: each change is a new row with a higher
      // revision and the highest wins (reads use FINAL). Not partitioned, so all
      // revisions of an alert always fold together. Ordered by company because
      // the engine reads a batch of companies' alerts at a time.
      `CREATE TABLE IF NOT EXISTS alerts (
        id String,
        fingerprint String,
        rule_id LowCardinality(String),
        rule_version UInt32,
        variant LowCardinality(String),
        severity LowCardinality(String),
        mode LowCardinality(String),
        channels Array(String),
        title_zh String,
        title_en String,
        message_zh String,
        message_en String,
        region LowCardinality(String),
        enterprise_id String,
        agency_id LowCardinality(String),
        officer_ids Array(String),
        window_start DateTime64(3, 'UTC'),
        window_end DateTime64(3, 'UTC'),
        anchor_at DateTime64(3, 'UTC'),
        first_seen_at DateTime64(3, 'UTC'),
        last_seen_at DateTime64(3, 'UTC'),
        count UInt32,
        evidence String CODEC(ZSTD(3)),
        figures String,
        params String CODEC(ZSTD(3)),
        status LowCardinality(String),
        resolution LowCardinality(String),
        resolution_note String,
        resolved_by String,
        resolved_at Nullable(DateTime64(3, 'UTC')),
        acknowledged_by String,
        acknowledged_at Nullable(DateTime64(3, 'UTC')),
        raised_at DateTime64(3, 'UTC'),
        updated_at DateTime64(3, 'UTC'),
        revision UInt64,
        INDEX idx_id id TYPE bloom_filter(0.001) GRANULARITY 4
      )
      ENGINE = ReplacingMergeTree(revision)
      ORDER BY (enterprise_id, rule_id, id)`,
      // An alert's history, one row per revision. Rule, severity, region, agency
      // and company are copied in so dashboards can group changes without a join;
      // a retried insert of the same revision folds.
      `CREATE TABLE IF NOT EXISTS alert_changes (
        alert_id String,
        revision UInt64,
        at DateTime64(3, 'UTC'),
        actor String,
        action LowCardinality(String),
        from_status LowCardinality(String),
        to_status LowCardinality(String),
        note String,
        rule_id LowCardinality(String),
        severity LowCardinality(String),
        region LowCardinality(String),
        agency_id LowCardinality(String),
        enterprise_id String
      )
      ENGINE = ReplacingMergeTree
      ORDER BY (alert_id, revision)`,
    ],
  },
  {
    version: 4,
    name: 'alert delivery: silences, inhibition, escalation',
    statements: [
      // How an alert was routed when its revision was decided: silenced and
      // inhibited alerts are stored like any other but pushed to nobody.
      `ALTER TABLE alerts
        ADD COLUMN IF NOT EXISTS silenced_by Array(String),
        ADD COLUMN IF NOT EXISTS inhibited_by String,
        ADD COLUMN IF NOT EXISTS escalation UInt8`,
      // One row per silence revision (created, then perhaps expired early); read with FINAL.
      // An empty matcher matches anything; region matches a division-code prefix.
      `CREATE TABLE IF NOT EXISTS silences (
        id String,
        rule_id String,
        region String,
        agency_id String,
        enterprise_id String,
        reason String,
        created_by String,
        created_at DateTime64(3, 'UTC'),
        ends_at DateTime64(3, 'UTC'),
        expired_by String,
        updated_at DateTime64(3, 'UTC'),
        revision UInt32
      )
      ENGINE = ReplacingMergeTree(revision)
      ORDER BY id`,
    ],
  },
  {
    version: 5,
    name: 'hotline tickets',
    statements: [
      // One row per ticket revision; the highest wins (reads use FINAL). Not
      // partitioned, so all revisions of a ticket always fold together.
      `CREATE TABLE IF NOT EXISTS tickets (
        id String,
        source LowCardinality(String),
        source_id String,
        alert_id Nullable(String),
        region LowCardinality(String),
        enterprise_id String,
        agency_id LowCardinality(String),
        category LowCardinality(String),
        title_zh String,
        title_en String,
        description String CODEC(ZSTD(3)),
        priority LowCardinality(String),
        state LowCardinality(String),
        claimed_by String,
        claimed_until Nullable(DateTime64(3, 'UTC')),
        assignee_kind LowCardinality(String),
        assignee_id String,
        outcome LowCardinality(String),
        resolution_note String,
        created_at DateTime64(3, 'UTC'),
        accepted_at Nullable(DateTime64(3, 'UTC')),
        accept_due_at DateTime64(3, 'UTC'),
        resolve_due_at DateTime64(3, 'UTC'),
        resolved_at Nullable(DateTime64(3, 'UTC')),
        sla_breaches Array(LowCardinality(String)),
        revision UInt64,
        updated_at DateTime64(3, 'UTC')
      )
      ENGINE = ReplacingMergeTree(revision)
      ORDER BY id`,
      // Every change of every ticket, notes included (action 'note'). Region,
      // category, source, company and agency are copied in so dashboards can
      // measure queue times and SLA compliance without a join; a retried
      // insert of the same revision folds.
      `CREATE TABLE IF NOT EXISTS ticket_changes (
        ticket_id String,
        revision UInt64,
        at DateTime64(3, 'UTC'),
        actor String,
        action LowCardinality(String),
        from_state LowCardinality(String),
        to_state LowCardinality(String),
        priority LowCardinality(String),
        note String,
        region LowCardinality(String),
        category LowCardinality(String),
        source LowCardinality(String),
        enterprise_id String,
        agency_id LowCardinality(String)
      )
      ENGINE = ReplacingMergeTree
      ORDER BY (ticket_id, revision)`,
    ],
  },
  {
    version: 6,
    name: 'audit log',
    statements: [
      // One row per person's action (src/audit). The id is derived from the
      // action (kind:target:revision), and the sorting key holds only what the
      // id determines, so a retried write folds even though its `at` differs;
      // the latest attempt wins. Sorted by target (the history of one alert or
      // ticket is one key range); a time range prunes by month and by each
      // part's min/max of `at`; actor has a bloom filter. Human actions are a
      // few thousand a day, so a scan of a month is small.
      `CREATE TABLE IF NOT EXISTS audit_log (
        id String,
        at DateTime64(3, 'UTC'),
        actor String,
        actor_role LowCardinality(String),
        action LowCardinality(String),
        target_kind LowCardinality(String),
        target_id String,
        region LowCardinality(String),
        revision UInt64,
        before String CODEC(ZSTD(3)),
        after String CODEC(ZSTD(3)),
        note String CODEC(ZSTD(3)),
        request_id String,
        recorded_at DateTime64(3, 'UTC') DEFAULT now64(3),
        INDEX idx_actor actor TYPE bloom_filter(0.01) GRANULARITY 4
      )
      ENGINE = ReplacingMergeTree(at)
      PARTITION BY toYYYYMM(at)
      ORDER BY (target_kind, target_id, id)`,
    ],
  },
  {
    version: 7,
    name: 'api tokens',
    statements: [
      // One row per token revision (created, then perhaps revoked); read with FINAL.
      // Only the token's SHA-256 is kept; the id is derived from it.
      `CREATE TABLE IF NOT EXISTS api_tokens (
        id String,
        name String,
        role LowCardinality(String),
        jurisdiction String,
        enterprise_id String,
        hash String,
        created_by String,
        created_at DateTime64(3, 'UTC'),
        expires_at Nullable(DateTime64(3, 'UTC')),
        revoked_at Nullable(DateTime64(3, 'UTC')),
        revoked_by String,
        updated_at DateTime64(3, 'UTC'),
        revision UInt32
      )
      ENGINE = ReplacingMergeTree(revision)
      ORDER BY id`,
    ],
  },
  {
    version: 8,
    name: 'policy fidelity: purpose, national basis, plan review, filings, white list',
    statements: [
      // Rows stored before this migration read '' here; the engine reads a check-in's or record's
      // empty purpose as 'inspection', the contract's default.
      `ALTER TABLE events
        ADD COLUMN IF NOT EXISTS purpose LowCardinality(String),
        ADD COLUMN IF NOT EXISTS national_basis String,
        ADD COLUMN IF NOT EXISTS reviewed_by LowCardinality(String),
        ADD COLUMN IF NOT EXISTS filing_kind LowCardinality(String),
        ADD COLUMN IF NOT EXISTS filed_with LowCardinality(String),
        ADD COLUMN IF NOT EXISTS approved_by String`,
      // `exempt` stays, so processes of the previous version can still insert while a deployment rolls;
      // nothing reads it or writes meaning into it any more.
      `ALTER TABLE enterprises
        ADD COLUMN IF NOT EXISTS whitelisted Bool`,
    ],
  },
  {
    version: 9,
    name: 'company status: active or deregistered, with the date (海曙 已注销)',
    statements: [
      // Rows stored before read status '' and no date: the readers take '' as active, the contract's default.
      `ALTER TABLE enterprises
        ADD COLUMN IF NOT EXISTS status LowCardinality(String),
        ADD COLUMN IF NOT EXISTS deregistered_on Nullable(Date32)`,
    ],
  },
  {
    version: 10,
    name: 'plan checks: merged plans, stored checks of filed plans, coordination suggestions',
    statements: [
      // A joint plan names the plans it merges (合并); rows stored before read [] (nothing merged).
      `ALTER TABLE events
        ADD COLUMN IF NOT EXISTS replaces Array(String)`,
      // The plan check of each filed plan version, one row per plan and company it names (src/plans).
      // Re-checking the same version folds on (plan_id, enterprise_id): the latest check wins.
      `CREATE TABLE IF NOT EXISTS plan_checks (
        plan_id String,
        enterprise_id String,
        event_id String,
        region LowCardinality(String),
        agency_id LowCardinality(String),
        window_start Date,
        window_end Date,
        status LowCardinality(String),
        verdict LowCardinality(String),
        findings String CODEC(ZSTD(3)),
        suggestions String CODEC(ZSTD(3)),
        checked_at DateTime64(3, 'UTC')
      )
      ENGINE = ReplacingMergeTree(checked_at)
      ORDER BY (plan_id, enterprise_id)`,
      // A suggestion the coordinating office recorded for a plan (合并/线上/变更/取消). Its id is derived from
      // the request (a retry folds); who made it is in the row and in the audit log.
      `CREATE TABLE IF NOT EXISTS plan_suggestions (
        id String,
        plan_id String,
        action LowCardinality(String),
        with_plan_ids Array(String),
        window_start Nullable(Date),
        window_end Nullable(Date),
        note String,
        region LowCardinality(String),
        agency_id LowCardinality(String),
        actor String,
        actor_role LowCardinality(String),
        at DateTime64(3, 'UTC')
      )
      ENGINE = ReplacingMergeTree(at)
      ORDER BY (plan_id, id)`,
    ],
  },
  {
    version: 11,
    name: 'prevention rules: matters, remedies and credit repair on records, notices, evaluations',
    statements: [
      // matters: an inspection record's or a notice's 检查事项; remedies, credit_repair: 莆田's 救济途径 and
      // 信用修复流程 on a penalty record; score: an evaluation's score. A notice's day is window_start/window_end.
      `ALTER TABLE events
        ADD COLUMN IF NOT EXISTS matters Array(String),
        ADD COLUMN IF NOT EXISTS remedies String,
        ADD COLUMN IF NOT EXISTS credit_repair String,
        ADD COLUMN IF NOT EXISTS score Nullable(Float64)`,
    ],
  },
  {
    version: 12,
    name: 'people on tokens and in the audit log',
    statements: [
      // A token carries its holder: the person's name (name), unit, and whether an office shares it.
      `ALTER TABLE api_tokens
        ADD COLUMN IF NOT EXISTS unit String,
        ADD COLUMN IF NOT EXISTS shared Bool`,
      // Each entry names the token that acted, its holder's unit, and whether that token was an office's shared one.
      `ALTER TABLE audit_log
        ADD COLUMN IF NOT EXISTS actor_token String,
        ADD COLUMN IF NOT EXISTS actor_unit String,
        ADD COLUMN IF NOT EXISTS actor_shared Bool`,
    ],
  },
  {
    version: 13,
    name: '12345 practice: dated ticket numbers, the caller\'s contact, the callback (回访) with the caller\'s satisfaction',
    statements: [
      // Tickets opened before read number '' and no callback.
      `ALTER TABLE tickets
        ADD COLUMN IF NOT EXISTS number String,
        ADD COLUMN IF NOT EXISTS callback_at Nullable(DateTime64(3, 'UTC')),
        ADD COLUMN IF NOT EXISTS callback_by String,
        ADD COLUMN IF NOT EXISTS satisfaction LowCardinality(String),
        ADD COLUMN IF NOT EXISTS callback_note String,
        ADD COLUMN IF NOT EXISTS complainant_name String,
        ADD COLUMN IF NOT EXISTS complainant_phone String`,
    ],
  },
  {
    version: 14,
    name: 'officers: names on reference data',
    statements: [
      // Events name officers by id only; reference data gives each a name and the agency they serve (whose
      // region places them). Versions fold like agencies': the newest updated_at wins, read with FINAL.
      `CREATE TABLE IF NOT EXISTS officers (
        officer_id String,
        name String,
        agency_id String,
        updated_at DateTime64(3, 'UTC')
      )
      ENGINE = ReplacingMergeTree(updated_at)
      ORDER BY officer_id`,
    ],
  },
  {
    version: 15,
    name: 'smaller compressed blocks: less memory per merge and insert',
    statements: [
      // A part's writer holds a buffer of up to max_compress_block_size (1 MiB by default) for every column it
      // writes, so merging seven 5,000-row parts of events took 215 MiB (a horizontal merge: every column at once),
      // the largest part of the embedded engine's memory in the ingest benchmark. At 128 KiB the same merge took 68 MiB
      // in the same time (`npm run bench:merge`; docs/performance.md, 2026-12-07).
      ...[
        'events', 'enterprises', 'agencies', 'alerts', 'alert_changes', 'silences', 'tickets', 'ticket_changes', 'audit_log',
        'api_tokens', 'plan_checks', 'plan_suggestions', 'officers',
      ].map((table) => `ALTER TABLE ${table} MODIFY SETTING max_compress_block_size = 131072`),
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

/** The statements that create the ledger: LEDGER itself on one node. */
export function ledgerStatements(cluster?: ClusterTarget): string[] {
  return renderStatements([LEDGER], cluster);
}

async function appliedMigrations(storage: Storage): Promise<Applied[]> {
  if (storage.cluster) await ensureClusterLedger(storage, storage.cluster);
  else await storage.command(LEDGER);
  return storage.query<Applied>('SELECT version, checksum FROM schema_migrations FINAL ORDER BY version');
}

/**
 * On a cluster the ledger is replicated like every table (`schema_migrations_local` + Distributed
 * `schema_migrations`), so every node reads the same list. ON CLUSTER DDL goes through Keeper and waits for
 * every host, so it is sent only when this node lacks the tables: an API or worker starting while a replica is
 * down must not hang on it. A database made on one node (a ReplacingMergeTree ledger) is refused: rendering new
 * migrations there would mix local and sharded tables.
 */
async function ensureClusterLedger(storage: Storage, cluster: ClusterTarget): Promise<void> {
  const rows = await storage.query<{ name: string; engine: string }>(
    `SELECT name, engine FROM system.tables
     WHERE database = currentDatabase() AND name IN ('schema_migrations', 'schema_migrations_local')`);
  const ledger = rows.find((r) => r.name === 'schema_migrations');
  if (ledger && ledger.engine !== 'Distributed') {
    throw new Error(`database ${cluster.database} was migrated without CLICKHOUSE_CLUSTER (schema_migrations is ${ledger.engine}, not Distributed): `
      + 'migrate a new database ON CLUSTER and copy the data (docs/scaling.md)');
  }
  if (rows.length === 2) return;
  for (const statement of ledgerStatements(cluster)) await storage.command(statement);
}

/** Which of these tables the database lacks (a store never migrated, or the wrong DATA_DIR or CLICKHOUSE_URL). */
export async function missingTables(storage: Storage, names: readonly string[]): Promise<string[]> {
  const rows = await storage.query<{ name: string }>(
    'SELECT name FROM system.tables WHERE database = currentDatabase() AND name IN {names:Array(String)}', { names });
  return names.filter((n) => !rows.some((r) => r.name === n));
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

/** Applies what is pending, in version order; returns the versions applied now. `onStep` follows along (progress). */
export async function migrate(storage: Storage, all = MIGRATIONS, onStep?: (done: number, pending: number) => void): Promise<number[]> {
  const done: number[] = [];
  const pending = await pendingMigrations(storage, all);
  onStep?.(0, pending.length);
  for (const m of pending) {
    for (const statement of renderStatements(m.statements, storage.cluster)) await storage.command(statement);
    await storage.insert('schema_migrations', [{ version: m.version, name: m.name, checksum: checksum(m) }]);
    done.push(m.version);
    onStep?.(done.length, pending.length);
  }
  return done;
}
