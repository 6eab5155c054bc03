import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../src/config/index.js';

/**
 * The production stack (docker-compose.yml, deploy/, the README's data-flow picture) checked without a
 * Docker engine: docker-compose's own validation and interpolation, plus the cross-file facts it cannot
 * see — mounted files exist, Prometheus scrapes the ports the services listen on, Grafana's datasources
 * reach the ClickHouse user the server defines, the passwords travel consistently.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');

interface LongVolume { type: string; source?: string; target: string; read_only?: boolean }
interface Service {
  image?: string;
  build?: string | { context: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: Array<string | number | { target: number; published?: number | string; host_ip?: string }>;
  expose?: Array<string | number>;
  volumes?: Array<string | LongVolume>;
  container_name?: string;
  healthcheck?: { test: string | string[] };
  stop_grace_period?: string;
  profiles?: string[];
  depends_on?: string[] | Record<string, { condition: string }>;
}
interface ComposeFile { services: Record<string, Service>; volumes?: Record<string, unknown> }

const compose = parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as ComposeFile;
const service = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
};

function environment(s: Service): Record<string, string> {
  const env = s.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((kv) => [kv.split('=')[0]!, kv.slice(kv.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v ?? '')]));
}

interface Mount { source: string; target: string; readOnly: boolean; bind: boolean }
function mounts(s: Service): Mount[] {
  return (s.volumes ?? []).map((v) => {
    if (typeof v !== 'string') {
      return { source: v.source ?? '', target: v.target, readOnly: v.read_only === true, bind: v.type === 'bind' };
    }
    const [source = '', target = '', mode = ''] = v.split(':');
    return { source, target, readOnly: mode.split(',').includes('ro'), bind: /^[./~]/.test(source) };
  });
}
const mountAt = (s: Service, target: string): Mount | undefined => mounts(s).find((m) => m.target === target);

const commandOf = (s: Service): string[] => (Array.isArray(s.command) ? s.command : (s.command ?? '').split(/\s+/).filter(Boolean));
const flag = (args: string[], name: string): string | undefined =>
  args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);

/** `docker-compose -f docker-compose.yml <args>` as CI runs it, with only the given variables set. */
const emptyEnvDir = mkdtempSync(join(tmpdir(), 'qingjian-compose-'));
afterAll(() => rmSync(emptyEnvDir, { recursive: true, force: true }));
let envFiles = 0;
// The one setting without a default (a public admin token would open the API): CI sets a placeholder.
const CI_TOKEN = 'ci-placeholder-token-for-config-validation';
function dockerCompose(args: string[], given: Record<string, string> = {}) {
  const vars = { QINGJIAN_BOOTSTRAP_TOKEN: CI_TOKEN, ...given };
  // An explicit env file, so a developer's own .env or exported passwords cannot change the outcome.
  const envFile = join(emptyEnvDir, `env-${++envFiles}`);
  writeFileSync(envFile, Object.entries(vars).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/PASSWORD|^GRAFANA_|^PROMETHEUS_|^QINGJIAN_|^LOG_LEVEL$/.test(k)));
  const result = spawnSync('docker-compose', ['-f', COMPOSE_FILE, '--env-file', envFile, ...args], {
    cwd: ROOT, env: { ...env, ...vars }, encoding: 'utf8', timeout: 60_000,
  });
  if (result.error) throw new Error(`docker-compose could not run (installed by .ci/run): ${result.error.message}`);
  return result;
}
function resolvedCompose(vars: Record<string, string> = {}): ComposeFile {
  const result = dockerCompose(['config'], vars);
  expect(result.status, result.stderr).toBe(0);
  return parse(result.stdout) as ComposeFile;
}

describe('docker-compose.yml', () => {
  it('passes docker-compose config (as CI runs it)', () => {
    const result = dockerCompose(['config', '--quiet']);
    expect(result.status, result.stderr).toBe(0);
  });

  it('refuses to start without the bootstrap admin token, and gives the demo the same one', () => {
    const missing = dockerCompose(['config', '--quiet'], { QINGJIAN_BOOTSTRAP_TOKEN: '' });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('set QINGJIAN_BOOTSTRAP_TOKEN in .env');
    const resolved = resolvedCompose({ QINGJIAN_BOOTSTRAP_TOKEN: 'a-token-for-this-test-0123456789abcdef' });
    expect(resolved.services.api!.environment).toMatchObject({ QINGJIAN_BOOTSTRAP_TOKEN: 'a-token-for-this-test-0123456789abcdef' });
    expect(resolved.services.demo!.environment).toMatchObject({ QINGJIAN_TOKEN: 'a-token-for-this-test-0123456789abcdef' });
  });

  it('has the whole stack, and a demo profile running the same image', () => {
    for (const name of ['clickhouse', 'redis', 'api', 'worker', 'prometheus', 'grafana']) {
      expect(compose.services, name).toHaveProperty(name);
      expect(service(name).profiles, `${name} starts without a profile`).toBeUndefined();
    }
    const api = service('api');
    expect(commandOf(api)).toEqual(['api']);
    expect(commandOf(service('worker'))).toEqual(['worker']);
    const demo = service('demo');
    expect(demo.profiles).toEqual(['demo']);
    expect(demo.image).toBe(api.image);
    expect(service('worker').image).toBe(api.image);
    expect(commandOf(demo)).toEqual(['demo', '--url', `http://api:${environment(api).PORT}`]);
    expect(demo.depends_on).toMatchObject({ api: { condition: 'service_healthy' } });
  });

  it('builds the image from a Dockerfile that exposes the API and metrics ports', () => {
    const build = service('api').build;
    const context = typeof build === 'string' ? build : build?.context;
    expect(context).toBeDefined();
    const dockerfile = readFileSync(join(ROOT, context!, 'Dockerfile'), 'utf8');
    const exposed = dockerfile.match(/^EXPOSE\s+(.+)$/m)?.[1]?.split(/\s+/) ?? [];
    expect(exposed).toContain(environment(service('api')).PORT);
    expect(exposed).toContain(environment(service('worker')).METRICS_PORT);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "bin\/qingjian\.mjs"\]$/m);
  });

  it('bind-mounts only paths that exist in the repository, read-only; data lives in named volumes', () => {
    const binds: string[] = [];
    for (const [name, s] of Object.entries(compose.services)) {
      for (const m of mounts(s)) {
        if (m.bind) {
          binds.push(m.source);
          expect(existsSync(resolve(ROOT, m.source)), `${name}: ${m.source} does not exist`).toBe(true);
          expect(m.readOnly, `${name}: ${m.source} should be mounted :ro`).toBe(true);
        } else {
          expect(Object.keys(compose.volumes ?? {}), `${name}: volume ${m.source} is not declared`).toContain(m.source);
        }
      }
    }
    expect(binds.length).toBeGreaterThanOrEqual(5);
    const dataDirs: Record<string, string> = {
      clickhouse: '/var/lib/clickhouse', redis: '/data', prometheus: '/prometheus', grafana: '/var/lib/grafana',
    };
    for (const [name, dir] of Object.entries(dataDirs)) {
      expect(mountAt(service(name), dir), `${name} keeps ${dir} in a named volume`).toMatchObject({ bind: false });
    }
  });

  it('lets workers scale: no fixed name, no host port, metrics on METRICS_PORT, healthchecks and grace periods', () => {
    const worker = service('worker');
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
    const metricsPort = environment(worker).METRICS_PORT;
    expect(loadConfig({ METRICS_PORT: metricsPort }).METRICS_PORT).toBeGreaterThan(0);
    expect((worker.expose ?? []).map(String)).toContain(metricsPort);
    expect(JSON.stringify(worker.healthcheck?.test)).toContain('METRICS_PORT');

    const api = service('api');
    expect(JSON.stringify(api.healthcheck?.test)).toContain(`127.0.0.1:${environment(api).PORT}/readyz`);
    // The container must outlive the service's own graceful stop (SHUTDOWN_TIMEOUT_MS).
    const shutdownS = loadConfig({}).SHUTDOWN_TIMEOUT_MS / 1000;
    for (const s of [api, worker]) {
      expect(Number(s.stop_grace_period?.replace(/s$/, ''))).toBeGreaterThan(shutdownS);
      expect(s.depends_on).toMatchObject({ clickhouse: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    }
  });

  it('keeps Redis durable for BullMQ: AOF and noeviction', () => {
    const args = commandOf(service('redis')).join(' ');
    expect(args).toContain('--appendonly yes');
    expect(args).toContain('--appendfsync everysec');
    expect(args).toContain('--maxmemory-policy noeviction');
    expect(service('redis').ports).toBeUndefined();
  });

  it('publishes Grafana, Prometheus and ClickHouse HTTP on loopback only', () => {
    expect(service('grafana').ports).toEqual(['127.0.0.1:3000:3000']);
    expect(service('prometheus').ports).toEqual(['127.0.0.1:9090:9090']);
    expect(service('clickhouse').ports).toEqual(['127.0.0.1:8123:8123']);
  });
});

describe('Prometheus (deploy/prometheus/prometheus.yml)', () => {
  const prometheus = service('prometheus');
  const args = commandOf(prometheus);
  const configPath = flag(args, '--config.file');
  const mount = mounts(prometheus).find((m) => m.target === configPath);
  interface ScrapeConfig {
    job_name: string;
    metrics_path?: string;
    static_configs?: Array<{ targets: string[] }>;
    dns_sd_configs?: Array<{ names: string[]; type?: string; port?: number }>;
  }
  const config = parse(readFileSync(join(ROOT, mount?.source ?? 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
    global: { scrape_interval: string };
    scrape_configs: ScrapeConfig[];
  };
  const job = (name: string) => {
    const found = config.scrape_configs.find((j) => j.job_name === name);
    if (!found) throw new Error(`no scrape job ${name}`);
    return found;
  };
  /** host:port of every target a job names, static or found by DNS. */
  const targets = (j: ScrapeConfig) => [
    ...(j.static_configs ?? []).flatMap((c) => c.targets),
    ...(j.dns_sd_configs ?? []).flatMap((c) => c.names.map((n) => `${n}:${c.port}`)),
  ];

  it('is the file compose mounts, with a retention and its own volume', () => {
    expect(mount).toMatchObject({ source: './deploy/prometheus/prometheus.yml', readOnly: true });
    expect(flag(args, '--storage.tsdb.retention.time')).toBeTruthy();
    expect(mountAt(prometheus, flag(args, '--storage.tsdb.path')!)).toMatchObject({ bind: false });
    expect(config.global.scrape_interval).toBe('15s');
  });

  it('scrapes the API on its HTTP port', () => {
    const api = job('qingjian-api');
    expect(api.metrics_path ?? '/metrics').toBe('/metrics');
    expect(targets(api)).toEqual([`api:${environment(service('api')).PORT}`]);
  });

  it('finds every worker replica by DNS, on the METRICS_PORT compose gives the workers', () => {
    const worker = job('qingjian-worker');
    expect(worker.metrics_path ?? '/metrics').toBe('/metrics');
    expect(worker.static_configs).toBeUndefined();
    expect(worker.dns_sd_configs).toEqual([
      expect.objectContaining({ names: ['worker'], type: 'A', port: Number(environment(service('worker')).METRICS_PORT) }),
    ]);
    expect(targets(worker).every((t) => compose.services[t.split(':')[0]!])).toBe(true);
  });
});

describe('Grafana and its ClickHouse user', () => {
  const grafana = service('grafana');
  const grafanaEnv = environment(grafana);
  const provisioning = mountAt(grafana, '/etc/grafana/provisioning');
  const boards = mountAt(grafana, '/var/lib/grafana/dashboards');
  const provisioningDir = join(ROOT, provisioning?.source ?? 'dashboards/provisioning');

  const yamlFiles = (dir: string) =>
    (existsSync(dir) ? readdirSync(dir) : []).filter((f) => /\.ya?ml$/.test(f)).map((f) => ({
      file: join(dir, f),
      doc: parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>,
    }));
  interface Datasource {
    uid: string; type: string; url?: string;
    jsonData?: Record<string, unknown>; secureJsonData?: Record<string, unknown>;
  }
  const datasources = () =>
    yamlFiles(join(provisioningDir, 'datasources')).flatMap(({ doc }) => (doc.datasources ?? []) as Datasource[]);
  const datasource = (uid: string) => {
    const found = datasources().find((d) => d.uid === uid);
    if (!found) throw new Error(`no datasource with uid "${uid}" in ${provisioningDir}/datasources`);
    return found;
  };

  const usersMount = mounts(service('clickhouse')).find((m) => m.target.startsWith('/etc/clickhouse-server/users.d/'));
  const users = parseXml(readFileSync(join(ROOT, usersMount?.source ?? 'deploy/clickhouse/users.d/grafana.xml'), 'utf8'));

  it('mounts the provisioning and the boards from dashboards/', () => {
    expect(provisioning).toMatchObject({ source: './dashboards/provisioning', readOnly: true, bind: true });
    expect(boards).toMatchObject({ source: './dashboards', readOnly: true, bind: true });
    expect(statSync(provisioningDir).isDirectory()).toBe(true);
  });

  it('provisions the datasources clickhouse and prometheus, pointing at the services of the stack', () => {
    const clickhouse = datasource('clickhouse');
    const plugins = (grafanaEnv.GF_PLUGINS_PREINSTALL_SYNC ?? '').split(',').map((p) => p.trim().split('@')[0]);
    // ${VAR:-default} in compose: the default is what is installed unless overridden.
    const installed = plugins.map((p) => p?.replace(/^\$\{[A-Z_]+:-/, '').replace(/\}$/, ''));
    expect(installed).toContain('grafana-clickhouse-datasource');
    expect(clickhouse.type).toBe('grafana-clickhouse-datasource');
    const json = clickhouse.jsonData ?? {};
    expect(json.host ?? json.server).toBe('clickhouse');
    expect(Number(json.port)).toBe(9000);
    expect(json.protocol ?? 'native').toBe('native');
    expect(json.username).toBe(grafanaUser().name);
    expect(JSON.stringify(clickhouse.secureJsonData?.password)).toMatch(/\$\{?GRAFANA_CLICKHOUSE_PASSWORD\}?/);

    const prometheus = datasource('prometheus');
    expect(prometheus.type).toBe('prometheus');
    const publishedPort = String(service('prometheus').ports?.[0]).split(':').at(-1);
    expect(prometheus.url?.replace(/\/$/, '')).toBe(`http://prometheus:${publishedPort}`);
  });

  it('gives Grafana every environment variable its provisioning files expand', () => {
    const referenced = new Set<string>();
    const walk = (v: unknown): void => {
      if (typeof v === 'string') for (const m of v.matchAll(/(?<!\$)\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g)) referenced.add(m[1]!);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    for (const sub of readdirSync(provisioningDir)) {
      if (statSync(join(provisioningDir, sub)).isDirectory()) yamlFiles(join(provisioningDir, sub)).forEach(({ doc }) => walk(doc));
    }
    expect(referenced).toContain('GRAFANA_CLICKHOUSE_PASSWORD');
    for (const name of referenced) expect(Object.keys(grafanaEnv), `grafana needs ${name}`).toContain(name);
  });

  it('loads the boards from the directory compose mounts', () => {
    const providers = yamlFiles(join(provisioningDir, 'dashboards'))
      .flatMap(({ doc }) => (doc.providers ?? []) as Array<{ options?: { path?: string } }>);
    expect(providers.length).toBeGreaterThan(0);
    for (const p of providers) {
      const path = p.options?.path ?? '';
      const inside = posix.relative(boards!.target, path);
      expect(inside.startsWith('..'), `${path} is outside ${boards!.target}`).toBe(false);
      expect(statSync(join(ROOT, boards!.source, inside)).isDirectory()).toBe(true);
    }
  });

  it('keeps anonymous access off and takes the admin password from the environment', () => {
    const resolved = resolvedCompose().services.grafana!;
    expect(environment(resolved).GF_AUTH_ANONYMOUS_ENABLED).toBe('false');
    expect(grafanaEnv.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:-.+\}$/);
    expect(environment(resolvedCompose({ GRAFANA_ADMIN_PASSWORD: 'adm-1' }).services.grafana!).GF_SECURITY_ADMIN_PASSWORD).toBe('adm-1');
  });

  function grafanaUser() {
    const usersEl = child(users, 'users');
    expect(usersEl.children).toHaveLength(1);
    return usersEl.children[0]!;
  }

  it('defines a ClickHouse user that may only SELECT from the service database, with readonly = 2', () => {
    expect(usersMount).toMatchObject({ readOnly: true, bind: true });
    expect(users.name).toBe('clickhouse');
    const user = grafanaUser();
    expect(user.name).toBe('grafana');
    expect(child(user, 'password').attrs.from_env).toBe('GRAFANA_CLICKHOUSE_PASSWORD');
    expect(child(user, 'access_management').text.trim()).toBe('0');
    const grants = child(user, 'grants').children.map((q) => q.text.trim());
    expect(grants).toEqual([`GRANT SELECT ON ${environment(service('clickhouse')).CLICKHOUSE_DB}.*`]);
    // The ClickHouse plugin changes max_execution_time on every query: readonly = 1 would refuse it.
    const profile = child(child(users, 'profiles'), child(user, 'profile').text.trim());
    expect(child(profile, 'readonly').text.trim()).toBe('2');
  });

  it('passes the same ClickHouse passwords to the server, the service and Grafana', () => {
    const cases: Array<Record<string, string>> = [{}, { CLICKHOUSE_PASSWORD: 'svc-pw-1', GRAFANA_CLICKHOUSE_PASSWORD: 'graf-pw-2' }];
    for (const vars of cases) {
      const s = resolvedCompose(vars).services;
      const ch = environment(s.clickhouse!);
      for (const name of ['api', 'worker']) {
        const env = environment(s[name]!);
        expect(env.CLICKHOUSE_PASSWORD, name).toBe(ch.CLICKHOUSE_PASSWORD);
        expect(env.CLICKHOUSE_USER, name).toBe(ch.CLICKHOUSE_USER);
        expect(env.CLICKHOUSE_DATABASE, name).toBe(ch.CLICKHOUSE_DB);
        expect(new URL(env.CLICKHOUSE_URL!).hostname, name).toBe('clickhouse');
      }
      expect(environment(s.grafana!).GRAFANA_CLICKHOUSE_PASSWORD).toBe(ch.GRAFANA_CLICKHOUSE_PASSWORD);
      if ('CLICKHOUSE_PASSWORD' in vars) {
        expect(ch.CLICKHOUSE_PASSWORD).toBe('svc-pw-1');
        expect(ch.GRAFANA_CLICKHOUSE_PASSWORD).toBe('graf-pw-2');
      } else {
        expect(ch.GRAFANA_CLICKHOUSE_PASSWORD).toBeTruthy();
      }
    }
  });

  it('has a backup disk on the volume compose mounts for it', () => {
    const mount = mounts(service('clickhouse')).find((m) => m.target.startsWith('/etc/clickhouse-server/config.d/'));
    const config = parseXml(readFileSync(join(ROOT, mount!.source), 'utf8'));
    const disk = child(child(child(config, 'storage_configuration'), 'disks'), 'backups');
    const path = child(disk, 'path').text.trim();
    expect(child(child(config, 'backups'), 'allowed_disk').text.trim()).toBe('backups');
    expect(mountAt(service('clickhouse'), path.replace(/\/$/, ''))).toMatchObject({ bind: false, source: 'clickhouse-backups' });
  });
});

describe('docs/data-flow.svg', () => {
  it('is well-formed SVG with readable labels, and the production page (docs/production.md) shows it', () => {
    const svg = parseXml(readFileSync(join(ROOT, 'docs/data-flow.svg'), 'utf8'));
    expect(svg.name).toBe('svg');
    expect(svg.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(svg.attrs.viewBox).toMatch(/^0 0 \d+ \d+$/);
    const text = allText(svg);
    for (const label of ['api', 'store-events', 'store worker', 'events', 'evaluate-events', 'evaluate worker', 'rules/',
      'alerts', 'feed journal', 'WebSocket', '纪委监委', 'hotline', '12345', 'alert-timers', 'prometheus', 'grafana', '司法局']) {
      expect(text, label).toContain(label);
    }
    const production = readFileSync(join(ROOT, 'docs/production.md'), 'utf8');
    const section = production.slice(production.indexOf('## Production (docker compose)'));
    expect(section.slice(0, section.indexOf('\n## ', 5))).toMatch(/!\[[^\]]+\]\(data-flow\.svg\)/);
  });

  it('the XML check rejects what is not well-formed', () => {
    expect(() => parseXml('<svg><g></svg>')).toThrow(/closes/);
    expect(() => parseXml('<svg a="1" a="2"/>')).toThrow(/duplicate/);
    expect(() => parseXml('<svg>a & b</svg>')).toThrow(/entity/);
    expect(() => parseXml('<svg/><svg/>')).toThrow(/root/);
    expect(() => parseXml('<svg x=1/>')).toThrow(/attribute/);
    expect(parseXml('<?xml version="1.0"?><!-- c --><a b="&lt;"><c>x &amp; y</c></a>').children[0]!.text).toBe('x & y');
  });
});

// --- A small, strict XML reader: enough for well-formedness and for reading ClickHouse's config files. ---

interface XmlElement { name: string; attrs: Record<string, string>; children: XmlElement[]; text: string }

function child(el: XmlElement, name: string): XmlElement {
  const found = el.children.find((c) => c.name === name);
  if (!found) throw new Error(`<${el.name}> has no <${name}>`);
  return found;
}

function allText(el: XmlElement): string {
  return [el.text, ...el.children.map(allText)].join(' ');
}

function parseXml(src: string): XmlElement {
  const ENTITY = /^&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/;
  const NAME = /[A-Za-z_:][\w.:-]*/y;
  const ATTR = /([A-Za-z_:][\w.:-]*)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/y;
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const fail = (message: string): never => {
    throw new Error(`XML line ${src.slice(0, i).split('\n').length}: ${message}`);
  };
  const decode = (raw: string): string => {
    for (let at = raw.indexOf('&'); at >= 0; at = raw.indexOf('&', at + 1)) {
      if (!ENTITY.test(raw.slice(at))) fail(`bad entity reference at "${raw.slice(at, at + 10)}"`);
    }
    return raw.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) =>
      e[0] === '#'
        ? String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1)))
        : ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[e]!);
  };
  const name = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(src);
    if (!m) return fail('expected a name');
    i += m[0].length;
    return m[0];
  };
  const skipSpace = (): number => {
    const start = i;
    while (/\s/.test(src[i] ?? '')) i++;
    return i - start;
  };
  const until = (end: string, what: string): string => {
    const at = src.indexOf(end, i);
    if (at < 0) fail(`unclosed ${what}`);
    const body = src.slice(i, at);
    i = at + end.length;
    return body;
  };

  while (i < src.length) {
    const lt = src.indexOf('<', i);
    const text = src.slice(i, lt < 0 ? src.length : lt);
    if (text) {
      if (stack.length) stack.at(-1)!.text += decode(text);
      else if (text.trim()) fail('text outside the root element');
    }
    if (lt < 0) break;
    i = lt;
    if (src.startsWith('<!--', i)) {
      i += 4;
      if (until('-->', 'comment').includes('--')) fail('"--" inside a comment');
    } else if (src.startsWith('<![CDATA[', i)) {
      if (!stack.length) fail('CDATA outside the root element');
      i += 9;
      stack.at(-1)!.text += until(']]>', 'CDATA section');
    } else if (src.startsWith('<?', i)) {
      const start = i;
      i += 2;
      if (/^xml\s/i.test(src.slice(i, i + 4)) && start !== 0) fail('the XML declaration must come first');
      until('?>', 'processing instruction');
    } else if (src.startsWith('<!', i)) {
      fail('unexpected declaration (DOCTYPE?)');
    } else if (src.startsWith('</', i)) {
      i += 2;
      const closing = name();
      skipSpace();
      if (src[i] !== '>') fail(`bad end tag </${closing}`);
      i++;
      const open = stack.pop();
      if (open?.name !== closing) fail(`</${closing}> closes <${open?.name ?? 'nothing'}>`);
    } else {
      i++;
      const el: XmlElement = { name: name(), attrs: {}, children: [], text: '' };
      let selfClosing = false;
      for (;;) {
        const space = skipSpace();
        if (src.startsWith('/>', i)) { i += 2; selfClosing = true; break; }
        if (src[i] === '>') { i++; break; }
        if (!space) fail(`attributes of <${el.name}> must be separated by white space`);
        ATTR.lastIndex = i;
        const a = ATTR.exec(src);
        if (!a) return fail(`bad attribute in <${el.name}>`);
        if (a[1]! in el.attrs) fail(`duplicate attribute ${a[1]} in <${el.name}>`);
        el.attrs[a[1]!] = decode(a[2] ?? a[3] ?? '');
        i += a[0].length;
      }
      if (stack.length) stack.at(-1)!.children.push(el);
      else if (root) fail('a second root element');
      else root = el;
      if (!selfClosing) stack.push(el);
    }
  }
  if (stack.length) fail(`<${stack.at(-1)!.name}> is not closed`);
  if (!root) fail('no root element');
  return root!;
}
