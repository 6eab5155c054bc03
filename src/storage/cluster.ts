import type { ClusterTarget } from './port.js';

/**
 * Renders the single-node migrations for a sharded and replicated ClickHouse cluster (CLICKHOUSE_CLUSTER).
 *
 * Each table `x` becomes two tables, both created ON CLUSTER so every node gets them:
 * - `x_local`, the data: the same columns and sorting key with the Replicated variant of the engine and no
 *   engine arguments besides the version column. Without a path and replica name ClickHouse takes the server's
 *   `default_replica_path` / `default_replica_name` (`/clickhouse/tables/{uuid}/{shard}`, `{replica}`), so the
 *   Keeper layout is the operator's, set once in the server configuration, not a second copy of it here.
 * - `x`, a Distributed table over `x_local` with the same columns (`AS`), so every query in the code keeps
 *   reading and writing `x` unchanged.
 *
 * Rows go to a shard by a hash of columns of the table's ORDER BY (SHARDING_KEYS): rows that ReplacingMergeTree
 * must fold have equal sorting keys, so they always land on one shard and fold there, and `FINAL` (which the
 * Distributed table hands to each shard) and `LIMIT n BY` stay correct across shards.
 *
 * A statement this module cannot render faithfully is refused (an Error naming it), never passed through:
 * a later migration that needs a new form fails its test and the start instead of creating a table that is
 * not replicated or not sharded.
 */

/** The columns each table is sharded by: always columns of its ORDER BY, chosen for how the table is read. */
export const SHARDING_KEYS: Readonly<Record<string, readonly string[]>> = {
  // A company's events together: rule evaluation and the timeline read one company's key range.
  events: ['enterprise_id'],
  enterprises: ['enterprise_id'],
  agencies: ['agency_id'],
  officers: ['officer_id'],
  // All revisions of an alert have the same company (part of its sorting key), so they fold on one shard.
  alerts: ['enterprise_id'],
  alert_changes: ['alert_id'],
  silences: ['id'],
  tickets: ['id'],
  ticket_changes: ['ticket_id'],
  // The id is derived from kind:target:revision, so one target's history is one shard.
  audit_log: ['target_kind', 'target_id'],
  api_tokens: ['id'],
  // A plan's check and suggestions are read per plan; a re-check of the same plan and company folds on one shard.
  plan_checks: ['plan_id'],
  plan_suggestions: ['plan_id'],
  schema_migrations: ['version'],
};

/**
 * Query settings the server adapter sends on every request in cluster mode. Why each:
 * - distributed_foreground_insert: a Distributed insert is otherwise only queued on the receiving node's disk
 *   and sent to the shards later. The pipeline treats a returned insert as stored (it completes the job, which
 *   Redis then forgets) and at once queues the evaluation that reads those events; alerts are read, changed
 *   and written back under a lock. All of that needs the rows on their shard when the insert returns, and
 *   a failing shard must fail the insert so the job is retried.
 * - prefer_localhost_replica = 0 and load_balancing = in_order: reads and writes of every process go to the
 *   same replica of each shard (the first healthy one in the cluster's order), not to whichever replica is
 *   local or random. Replication is asynchronous, so a read from another replica could miss a revision that
 *   another process wrote a moment ago (an acknowledgement overwritten by a stale evaluation).
 */
export const CLUSTER_SETTINGS = {
  distributed_foreground_insert: 1,
  prefer_localhost_replica: 0,
  load_balancing: 'in_order',
} as const;

/** `CLICKHOUSE_CLUSTER` values the renderer accepts: remote_servers names as users write them. */
export const CLUSTER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

const CREATE = /^\s*CREATE TABLE IF NOT EXISTS (\w+) \(/;
const ENGINE = /\bENGINE = (ReplacingMergeTree|MergeTree)\b(\([^()]*\))?/;
const ALTER = /^\s*ALTER TABLE (\w+)\s+/;
// ALTERs a Distributed table takes too (its columns must follow the local table's); anything else is refused.
const COLUMN_CLAUSE = /^(ADD|DROP|MODIFY|RENAME|COMMENT) COLUMN\b/;
// How the local tables store their parts: a Distributed table has no parts, so only the local tables take it.
const STORAGE_SETTING_CLAUSE = /^MODIFY SETTING\b/;

const quoteIdentifier = (name: string) => `\`${name}\``;
const quoteString = (value: string) => `'${value}'`;

function checkTarget(cluster: ClusterTarget): void {
  if (!CLUSTER_NAME.test(cluster.name)) throw new Error(`cluster name "${cluster.name}" must match ${CLUSTER_NAME}`);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(cluster.database)) throw new Error(`database name "${cluster.database}" is not a plain identifier`);
}

/** The cluster's statements for one single-node statement, in the order they must run. */
export function renderForCluster(statement: string, cluster: ClusterTarget): string[] {
  checkTarget(cluster);
  const onCluster = `ON CLUSTER ${quoteIdentifier(cluster.name)}`;

  const create = CREATE.exec(statement);
  if (create) {
    const table = create[1]!;
    const key = SHARDING_KEYS[table];
    if (!key) throw new Error(`table ${table} has no sharding key in src/storage/cluster.ts (SHARDING_KEYS)`);
    if (!ENGINE.test(statement)) throw new Error(`table ${table}: only MergeTree and ReplacingMergeTree can be rendered for a cluster`);
    const local = `${table}_local`;
    const localStatement = statement
      .replace(CREATE, `CREATE TABLE IF NOT EXISTS ${local} ${onCluster} (`)
      .replace(ENGINE, (_all, engine: string, args: string | undefined) => `ENGINE = Replicated${engine}${args ?? ''}`);
    const distributed =
      `CREATE TABLE IF NOT EXISTS ${table} ${onCluster} AS ${cluster.database}.${local}\n` +
      `      ENGINE = Distributed(${quoteString(cluster.name)}, ${quoteString(cluster.database)}, ${quoteString(local)}, cityHash64(${key.join(', ')}))`;
    return [localStatement, distributed];
  }

  const alter = ALTER.exec(statement);
  if (alter) {
    const table = alter[1]!;
    const rest = statement.slice(alter[0].length);
    if (STORAGE_SETTING_CLAUSE.test(rest.trim())) return [`ALTER TABLE ${table}_local ${onCluster}\n        ${rest}`];
    const clauses = rest.split(/,\s*\n\s*/).map((c) => c.trim());
    const bad = clauses.find((c) => !COLUMN_CLAUSE.test(c));
    if (bad !== undefined) throw new Error(`ALTER TABLE ${table}: "${bad.slice(0, 60)}" cannot be rendered for a cluster (column changes or storage settings only)`);
    return [`ALTER TABLE ${table}_local ${onCluster}\n        ${rest}`, `ALTER TABLE ${table} ${onCluster}\n        ${rest}`];
  }

  throw new Error(`cannot render for a cluster: ${statement.trim().split('\n')[0]}`);
}

/** The statements to run for a migration: unchanged on a single node, rendered ON CLUSTER otherwise. */
export function renderStatements(statements: readonly string[], cluster: ClusterTarget | undefined): string[] {
  if (!cluster) return [...statements];
  return statements.flatMap((s) => renderForCluster(s, cluster));
}
