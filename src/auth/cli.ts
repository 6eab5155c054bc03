import { Command, InvalidArgumentError, Option } from 'commander';
import { ROLES } from './roles.js';

/**
 * `qingjian tokens create|list|revoke`: token management through a running
 * API (so it works whatever storage the service uses), as an admin token.
 */
export const tokenOption = () => new Option('--token <token>', 'an API token (default: $QINGJIAN_TOKEN)')
  .env('QINGJIAN_TOKEN').makeOptionMandatory();

const urlOption = () => new Option('--url <api-url>', 'base URL of the API').default(`http://127.0.0.1:${process.env.PORT ?? 8080}`);

const positive = (value: string) => {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('must be a positive number');
  return n;
};

interface Connection {
  url: string;
  token: string;
}

export function tokensCommand(): Command {
  const tokens = new Command('tokens').description('create, list and revoke API tokens (needs an admin token)');

  tokens.command('create')
    .description('create a token; it is printed once, keep it safe')
    .requiredOption('--name <name>', 'who holds it: a person ("张三"), or a platform ("dezhou-app"); actions are recorded under it')
    .option('--unit <unit>', "the holder's unit, e.g. 德州市纪委监委", '')
    .option('--shared', "an office's token several people use: its actions are marked shared in the audit log", false)
    .addOption(new Option('--role <role>', 'what it may do').choices(ROLES).makeOptionMandatory())
    .option('--jurisdiction <prefix>', "division-code prefix it sees, e.g. 3714 ('' = everywhere)", '')
    .option('--enterprise <credit-code>', 'the company an enterprise token belongs to')
    .option('--expires-days <days>', 'days until it expires (default: never)', positive)
    .addOption(urlOption())
    .addOption(tokenOption())
    .action(async (opts: Connection & { name: string; unit: string; shared: boolean; role: string; jurisdiction: string; enterprise?: string; expiresDays?: number }) => {
      const created = await call(opts, 'POST', '/v1/tokens', {
        name: opts.name, unit: opts.unit, shared: opts.shared, role: opts.role, jurisdiction: opts.jurisdiction,
        ...(opts.enterprise ? { enterprise_id: opts.enterprise } : {}), ...(opts.expiresDays ? { expires_in_days: opts.expiresDays } : {}),
      }) as { token: string; id: string };
      console.log(created.token);
      console.error(`created ${created.id} (${opts.role}${opts.jurisdiction ? `, ${opts.jurisdiction}` : ''}); the token above is shown only once`);
    });

  tokens.command('list')
    .description('every token: id, name, role, jurisdiction, state')
    .addOption(urlOption())
    .addOption(tokenOption())
    .action(async (opts: Connection) => {
      const { items } = await call(opts, 'GET', '/v1/tokens') as { items: Array<Record<string, string | null>> };
      for (const t of items) {
        const state = t.revoked_at ? `revoked ${t.revoked_at}` : t.expires_at ? `expires ${t.expires_at}` : 'active';
        console.log([t.id, t.role, t.jurisdiction || '*', state, t.name].join('\t'));
      }
    });

  tokens.command('revoke <id>')
    .description('revoke a token by its id (tok-…); every process refuses it within seconds')
    .addOption(urlOption())
    .addOption(tokenOption())
    .action(async (id: string, opts: Connection) => {
      await call(opts, 'POST', `/v1/tokens/${encodeURIComponent(id)}/revoke`);
      console.log(`revoked ${id}`);
    });

  return tokens;
}

async function call(connection: Connection, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${connection.url.replace(/\/+$/, '')}${path}`, {
    method,
    headers: { authorization: `Bearer ${connection.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch((err: Error) => {
    throw new Error(`cannot reach ${connection.url}: ${err.message}`);
  });
  const answer = await res.json().catch(() => null) as { message?: string; errors?: Array<{ field: string; message: string }> } | null;
  if (!res.ok) {
    const fields = answer?.errors?.map((e) => `${e.field}: ${e.message}`).join('; ');
    throw new Error(`${method} ${path}: ${res.status} ${answer?.message ?? ''}${fields ? ` (${fields})` : ''}`);
  }
  return answer;
}
