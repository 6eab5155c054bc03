import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../log.js';
import { generateToken, type TokenStore } from './tokens.js';

/**
 * The first admin token. QINGJIAN_BOOTSTRAP_TOKEN names it (automation, compose);
 * without it, a single-process start on its own data directory (`qingjian start`,
 * the quick start) makes one and keeps it in DATA_DIR/admin-token, readable by
 * its owner only. A bootstrap token that was revoked stays revoked.
 */
export async function ensureBootstrapToken(tokens: TokenStore, options: { token?: string; tokenFile?: string; log: Logger }): Promise<string | null> {
  const token = options.token ?? (options.tokenFile ? readOrCreate(options.tokenFile) : null);
  if (!token) return null;
  const existing = await tokens.find(token);
  if (existing?.revoked_at) {
    options.log.warn({ token: existing.id }, 'the bootstrap token was revoked; it stays revoked');
    return null;
  }
  if (!existing) await tokens.create({ name: 'bootstrap', unit: '', shared: false, role: 'admin', jurisdiction: '', enterprise_id: '', expires_at: null, created_by: 'bootstrap' }, token);
  return token;
}

function readOrCreate(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true });
  const token = generateToken();
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}
