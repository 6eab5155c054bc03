import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'chdb';

/**
 * This process's embedded engine with a server configuration: a cluster named `name` of `shards` shards, each one
 * replica on this node, with macros and ClickHouse's in-memory `testkeeper`. chdb takes one configuration per
 * process, so a test file opens one of these at most. Storage adapters opened on `dataDir` share its connection.
 */
export function localCluster(name: string, shards: number): { dataDir: string; close(): void } {
  const dataDir = mkdtempSync(join(tmpdir(), 'qingjian-cluster-'));
  const configFile = join(dataDir, '..', `qingjian-cluster-${randomUUID()}.xml`);
  // Two names for this node, so that ClickHouse keeps the shards apart.
  const hosts = ['localhost', '127.0.0.1'];
  const shardList = Array.from({ length: shards }, (_, i) =>
    `<shard><internal_replication>true</internal_replication><replica><host>${hosts[i % hosts.length]}</host><port>9000</port></replica></shard>`);
  writeFileSync(configFile, `<clickhouse>
  <!-- is_local needs the port the server would listen on; chdb listens on nothing, so every shard is local. -->
  <tcp_port>9000</tcp_port>
  <remote_servers><${name}>${shardList.join('')}</${name}></remote_servers>
  <macros><shard>01</shard><replica>r1</replica></macros>
  <zookeeper><implementation>testkeeper</implementation></zookeeper>
</clickhouse>
`);
  const session = new Session(dataDir, { connectionArgs: [`--config-file=${configFile}`] });
  return {
    dataDir,
    close() {
      session.close();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(configFile, { force: true });
    },
  };
}

/** What chdb can run of a statement rendered for `cluster`: no ON CLUSTER, and plain engines (its replicas are read-only). */
export const runnableHere = (cluster: string) => (sql: string) =>
  sql.split(` ON CLUSTER \`${cluster}\``).join('').replace(/ENGINE = Replicated/g, 'ENGINE = ');
