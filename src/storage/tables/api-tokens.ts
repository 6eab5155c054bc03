import { z } from 'zod';
import { ROLES } from '../../auth/roles.js';
import type { Storage } from '../port.js';
import { column, columnsOf, namedQuery } from './query.js';

/**
 * `api_tokens` (migrations 7 and 12): one row per token revision (created, then perhaps revoked); the highest
 * revision wins (ReplacingMergeTree(revision), read with FINAL). Only the token's SHA-256 is kept; the id is
 * derived from it (src/auth/tokens.ts).
 */
export const ApiTokenRow = z.object({
  id: z.string(),
  /** The person holding the token, or the office for a shared one. */
  name: z.string(),
  role: z.enum(ROLES),
  /** Division-code prefix the token sees ('' = everywhere). */
  jurisdiction: z.string(),
  /** The company an `enterprise` token belongs to ('' otherwise). */
  enterprise_id: z.string(),
  hash: z.string(),
  created_by: z.string(),
  created_at: column.time,
  expires_at: column.time.nullable(),
  revoked_at: column.time.nullable(),
  revoked_by: z.string(),
  updated_at: column.time,
  revision: z.number().int(),
  /** Migration 12: the holder's unit and whether an office shares the token; tokens created before read '' and false. */
  unit: z.string(),
  shared: z.boolean(),
});
export type ApiTokenRow = z.output<typeof ApiTokenRow>;

export const insertApiTokens = (storage: Storage, rows: readonly ApiTokenRow[]) => storage.insert('api_tokens', rows);

/** Every token in its latest revision (each process keeps them all in memory). */
export const allApiTokens = namedQuery({
  name: 'api_tokens.all',
  row: ApiTokenRow,
  statement: (values: Record<string, never>) => ({ sql: `SELECT ${columnsOf(ApiTokenRow)} FROM api_tokens FINAL`, values }),
});
