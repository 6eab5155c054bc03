import { createHash, randomBytes } from 'node:crypto';
import { fromClickHouseTime, toClickHouseTime, type Storage } from '../storage/index.js';
import { allApiTokens, insertApiTokens, type ApiTokenRow } from '../storage/tables/api-tokens.js';
import type { Role } from './roles.js';

/**
 * API tokens. Only a token's SHA-256 is stored: tokens are 256 random bits,
 * so a fast hash is enough and a leaked table opens nothing. A token's id is
 * derived from its hash, so creating the same token twice (the bootstrap
 * token at every start) writes the same row. Every process keeps the active
 * tokens in memory and re-reads them at most every TOKEN_REFRESH_MS, so a
 * revocation made through another process takes effect within that delay.
 */
export interface TokenRecord {
  id: string;
  /** The person holding the token (or, for a shared token, the office). Their actions are recorded under it. */
  name: string;
  /** The holder's unit, e.g. 德州市纪委监委 ('' for platforms). */
  unit: string;
  /** An office's token several people use: its actions are marked shared in the audit log. */
  shared: boolean;
  role: Role;
  /** Division-code prefix the token sees ('' = everywhere). */
  jurisdiction: string;
  /** The company an `enterprise` token belongs to ('' otherwise). */
  enterprise_id: string;
  created_by: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  revoked_by: string;
}

/** Who is calling, as routes see it. */
export type Principal = Pick<TokenRecord, 'id' | 'name' | 'unit' | 'shared' | 'role' | 'jurisdiction' | 'enterprise_id'>;

export interface NewToken {
  name: string;
  unit: string;
  shared: boolean;
  role: Role;
  jurisdiction: string;
  enterprise_id: string;
  expires_at: Date | null;
  created_by: string;
}

export const TOKEN_REFRESH_MS = 2_000;
/** An unknown token re-reads the table at most this often, so random tokens cannot hammer ClickHouse. */
const MISS_RELOAD_MS = 250;

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
export const tokenId = (hash: string) => `tok-${hash.slice(0, 16)}`;
export const generateToken = () => `qjt_${randomBytes(32).toString('base64url')}`;

/** A revision as the store builds it; `write` stamps when it was written. */
type TokenRow = Omit<ApiTokenRow, 'updated_at'>;

export type TokenStore = ReturnType<typeof createTokenStore>;

export function createTokenStore(storage: Storage, clock: () => number = Date.now) {
  let cache: { at: number; byHash: Promise<Map<string, TokenRow>> } | null = null;
  let lastRead: Map<string, TokenRow> | null = null;

  async function load(): Promise<Map<string, TokenRow>> {
    const rows = await allApiTokens(storage, {});
    lastRead = new Map(rows.map((row) => [row.hash, row]));
    return lastRead;
  }

  function tokens(maxAgeMs: number): Promise<Map<string, TokenRow>> {
    if (!cache || clock() - cache.at > maxAgeMs) {
      // ClickHouse down must not stop ingest (events wait in Redis): the tokens last read stay in force,
      // and are read again after the refresh interval. Only a process that never read them answers 503.
      const byHash = load().catch((err: Error) => {
        if (!lastRead) {
          cache = null;
          throw err;
        }
        return lastRead;
      });
      cache = { at: clock(), byHash };
    }
    return cache.byHash;
  }

  async function write(row: TokenRow): Promise<void> {
    await insertApiTokens(storage, [{ ...row, updated_at: toClickHouseTime(new Date(clock())) }]);
    cache = null;
  }

  const active = (row: TokenRow) => !row.revoked_at && (!row.expires_at || fromClickHouseTime(row.expires_at).getTime() > clock());

  return {
    /** The caller behind a bearer token, or null for unknown, expired and revoked tokens. */
    async authenticate(token: string): Promise<Principal | null> {
      const hash = hashToken(token);
      let row = (await tokens(TOKEN_REFRESH_MS)).get(hash);
      if (!row) row = (await tokens(MISS_RELOAD_MS)).get(hash);
      if (!row || !active(row)) return null;
      const { id, name, unit, shared, role, jurisdiction, enterprise_id } = toRecord(row);
      return { id, name, unit, shared, role, jurisdiction, enterprise_id };
    },

    /**
     * Stores a new token; the token itself is returned here and never again. `before` runs with the record
     * before it is written (the audit entry), so a crash between the two leaves no token without its entry.
     */
    async create(request: NewToken, token = generateToken(), before?: (record: TokenRecord) => Promise<void>): Promise<{ token: string; record: TokenRecord }> {
      const hash = hashToken(token);
      const row: TokenRow = {
        id: tokenId(hash), name: request.name, unit: request.unit, shared: request.shared, role: request.role, jurisdiction: request.jurisdiction, enterprise_id: request.enterprise_id,
        created_by: request.created_by, created_at: toClickHouseTime(new Date(clock())),
        expires_at: request.expires_at ? toClickHouseTime(request.expires_at) : null, revoked_at: null, revoked_by: '', hash, revision: 1,
      };
      await before?.(toRecord(row));
      await write(row);
      return { token, record: toRecord(row) };
    },

    /** The token stored for this token string, in whatever state (for the bootstrap token). */
    async find(token: string): Promise<TokenRecord | null> {
      const row = (await tokens(0)).get(hashToken(token));
      return row ? toRecord(row) : null;
    },

    async list(): Promise<TokenRecord[]> {
      return [...(await tokens(0)).values()].map(toRecord).sort((a, b) => b.created_at.localeCompare(a.created_at));
    },

    /**
     * Revokes a token; null if there is none with this id. Revoking twice keeps the first revocation.
     * `before` runs with the revoked record before it is written, as in create.
     */
    async revoke(id: string, by: string, before?: (record: TokenRecord) => Promise<void>): Promise<TokenRecord | null> {
      const row = [...(await tokens(0)).values()].find((r) => r.id === id);
      if (!row) return null;
      if (row.revoked_at) return toRecord(row);
      const revoked = { ...row, revoked_at: toClickHouseTime(new Date(clock())), revoked_by: by, revision: row.revision + 1 };
      await before?.(toRecord(revoked));
      await write(revoked);
      return toRecord(revoked);
    },
  };
}

function toRecord(row: TokenRow): TokenRecord {
  const time = (value: string | null) => (value ? fromClickHouseTime(value).toISOString() : null);
  return {
    id: row.id, name: row.name, unit: row.unit, shared: row.shared, role: row.role, jurisdiction: row.jurisdiction, enterprise_id: row.enterprise_id,
    created_by: row.created_by, created_at: time(row.created_at)!, expires_at: time(row.expires_at), revoked_at: time(row.revoked_at), revoked_by: row.revoked_by,
  };
}
