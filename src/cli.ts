import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from './config/index.js';
import { createLogger, type Logger } from './log.js';
import { rulesCommand } from './rules/cli.js';
import { startService, type Roles } from './service.js';
import { createStorage, migrate } from './storage/index.js';

/** `qingjian start|api|worker|migrate` — the process entry points. */
const program = new Command('qingjian').description('清检 Qingjian: monitoring and alerting for administrative inspections');

const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
};

program.command('start')
  .description('API and workers in one process (embedded ClickHouse and a local Redis unless configured)')
  .option('--demo', 'feed the service realistic demo traffic')
  .option('--demo-visits <per_day>', 'live demo on-site visits per day', positiveInt, 2000)
  .option('--demo-seed <seed>', 'seed of the demo world', positiveInt, 2024)
  .action(async (opts: { demo?: boolean; demoVisits: number; demoSeed: number }) => {
    await run({ api: true, worker: true }, opts.demo ? { visitsPerDay: opts.demoVisits, seed: opts.demoSeed } : null);
  });

program.command('api').description('the HTTP API only').action(() => run({ api: true, worker: false }, null));
program.command('worker').description('the workers only').action(() => run({ api: false, worker: true }, null));

program.addCommand(rulesCommand());

program.command('migrate').description('apply pending ClickHouse migrations and exit').action(async () => {
  const config = loadConfig();
  const storage = createStorage(config);
  try {
    const applied = await migrate(storage);
    createLogger(config.LOG_LEVEL).info({ applied }, 'migrations applied');
  } finally {
    await storage.close();
  }
});

async function run(roles: Roles, demo: { visitsPerDay: number; seed: number } | null): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL);
  const service = await startService(config, roles, log);
  const stopDemo = demo && service.url ? await startDemo(service.url, demo, log) : null;
  onShutdownSignal(log, async () => {
    await stopDemo?.();
    await service.stop();
  });
}

async function startDemo(url: string, demo: { visitsPerDay: number; seed: number }, log: Logger) {
  const { startDemoTraffic } = await import('./demo/traffic.js');
  return startDemoTraffic({ url, ...demo, log: log.child({ role: 'demo' }) });
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
