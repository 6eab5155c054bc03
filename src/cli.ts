import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig, type Config } from './config/index.js';
import { createLogger, isPretty, type Logger } from './log.js';
import { redactUrl } from './redis/roles.js';
import { tokenOption, tokensCommand } from './auth/cli.js';
import { backupCommand, restoreCommand } from './backup/cli.js';
import type { DemoApi } from './demo/api.js';
import { DEMO_SEED } from './demo/catalogue.js';
import { rulesCommand } from './rules/cli.js';
import { startService, type Roles, type Service } from './service.js';
import { statsCommand } from './stats/cli.js';
import { startBanner, type StartInfo } from './terminal/banner.js';
import { createStorage, migrate } from './storage/index.js';

/** `qingjian start|api|worker|migrate|demo` — the process entry points. */
const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
const program = new Command('qingjian').description('清检 Qingjian: monitoring and alerting for administrative inspections')
  .version(VERSION, '-V, --version', 'print the version');

const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
};

function apiUrl(value: string): string {
  const problem = 'must be the http(s) URL of a running Qingjian API, e.g. http://api:8080';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(problem);
  }
  // `new URL('api:8080')` parses, with `api:` as its scheme.
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError(problem);
  if (url.search || url.hash) throw new InvalidArgumentError(`${problem} (no query or fragment)`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

program.command('start')
  .description('API and workers in one process (embedded ClickHouse and a local Redis unless configured)')
  .option('--demo', 'feed the service realistic demo traffic')
  .option('--demo-visits <per_day>', 'live demo on-site visits per day (0: the history only)', positiveInt, 2000)
  .option('--demo-seed <seed>', 'seed of the demo world', positiveInt, DEMO_SEED)
  .action(async (opts: { demo?: boolean; demoVisits: number; demoSeed: number }) => {
    await run({ api: true, worker: true }, opts.demo ? { visitsPerDay: opts.demoVisits, seed: opts.demoSeed } : null);
  });

program.command('demo')
  .description('feed an already running API with demo traffic and simulated staff until SIGTERM/SIGINT')
  .requiredOption('--url <api-url>', 'base URL of the API, e.g. http://api:8080', apiUrl)
  .option('--visits <per_day>', 'live on-site visits per day', positiveInt, 2000)
  .option('--seed <seed>', 'seed of the demo world', positiveInt, DEMO_SEED)
  .addOption(tokenOption())
  .action(async (opts: { url: string; visits: number; seed: number; token: string }) => {
    const config = loadConfig();
    const log = createLogger(config.LOG_LEVEL, config.LOG_FORMAT);
    let stopDemo: (() => Promise<void>) | null = null;
    // A signal while waiting or loading just ends the process: every batch sent is all-or-nothing.
    onShutdownSignal(log, async () => {
      await stopDemo?.();
    });
    const { waitForService } = await import('./demo/traffic.js');
    await waitForService(opts.url, log);
    stopDemo = await startDemo({ url: opts.url, token: opts.token }, { visitsPerDay: opts.visits, seed: opts.seed }, log);
  });

program.command('api').description('the HTTP API only').action(() => run({ api: true, worker: false }, null));
program.command('worker').description('the workers only').action(() => run({ api: false, worker: true }, null));

program.addCommand(rulesCommand());
program.addCommand(backupCommand());
program.addCommand(restoreCommand());
program.addCommand(tokensCommand());
program.addCommand(statsCommand());

program.command('migrate').description('apply pending ClickHouse migrations and exit').action(async () => {
  const config = loadConfig();
  const storage = createStorage(config);
  try {
    const applied = await migrate(storage);
    createLogger(config.LOG_LEVEL, config.LOG_FORMAT).info({ applied }, 'migrations applied');
  } finally {
    await storage.close();
  }
});

async function run(roles: Roles, demo: { visitsPerDay: number; seed: number } | null): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL, config.LOG_FORMAT);
  const service = await startService(config, roles, log);
  if (demo && !service.adminToken) throw new Error('the demo needs the bootstrap admin token, which was revoked: set QINGJIAN_BOOTSTRAP_TOKEN');
  const human = isPretty(config.LOG_FORMAT);
  if (human && service.url) process.stdout.write(`${startBanner(describeStart(config, service, demo !== null))}\n`);
  const stopDemo = demo && service.url && service.adminToken
    ? await startDemo({ url: service.url, token: service.adminToken }, demo, log, human)
    : null;
  onShutdownSignal(log, async () => {
    await stopDemo?.();
    await service.stop();
  });
}

async function startDemo(api: DemoApi, demo: { visitsPerDay: number; seed: number }, log: Logger, showProgress = false) {
  const { startDemoTraffic } = await import('./demo/traffic.js');
  return startDemoTraffic({ api, ...demo, log: log.child({ role: 'demo' }), showProgress });
}

function describeStart(config: Config, service: Service, demo: boolean): StartInfo {
  return {
    url: service.url!,
    admin: service.adminToken && service.adminTokenFile ? { token: service.adminToken, file: resolve(service.adminTokenFile) } : null,
    storage: config.CLICKHOUSE_URL
      ? `ClickHouse ${redactUrl(config.CLICKHOUSE_URL)}`
      : `嵌入式 ClickHouse (chdb) · embedded, in ${resolve(config.DATA_DIR)}`,
    redis: config.REDIS_URL ? redactUrl(config.REDIS_URL) : `本地 redis-server · own, ${service.redisUrl}, data in ${resolve(config.DATA_DIR, 'redis')}`,
    demo,
  };
}

function onShutdownSignal(log: Logger, shutdown: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    shutdown().then(
      () => process.exit(0),
      (err: Error) => {
        log.error({ err: err.message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

program.parseAsync().catch((err: Error) => {
  console.error(`qingjian: ${err.message}`);
  process.exit(1);
});
