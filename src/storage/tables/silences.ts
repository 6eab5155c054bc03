import { z } from 'zod';
import { toClickHouseTime, type Storage } from '../port.js';
import { column, columnsOf, namedQuery } from './query.js';

/**
 * `silences` (migration 4): one row per silence revision (created, then perhaps expired early); the highest
 * revision wins (ReplacingMergeTree(revision), read with FINAL). A matcher '' matches anything; region matches
 * a division-code prefix (src/alerts/silences.ts).
 */
export const SilenceRow = z.object({
  id: z.string(),
  rule_id: z.string(),
  region: z.string(),
  agency_id: z.string(),
  enterprise_id: z.string(),
  reason: z.string(),
  created_by: z.string(),
  created_at: column.time,
  ends_at: column.time,
  /** Who ended it early ('' while it runs its course). */
  expired_by: z.string(),
  updated_at: column.time,
  revision: z.number().int(),
});
export type SilenceRow = z.output<typeof SilenceRow>;

export const insertSilences = (storage: Storage, rows: readonly SilenceRow[]) => storage.insert('silences', rows);

// Newest first; at most 1,000, so a listing and the workers' cache of active silences stay bounded.
const select = (where: string) => `SELECT ${columnsOf(SilenceRow)} FROM silences FINAL WHERE ${where} ORDER BY created_at DESC LIMIT 1000`;

export const silenceById = namedQuery({
  name: 'silences.byId',
  row: SilenceRow,
  statement: (values: { id: string }) => ({ sql: select('id = {id:String}'), values }),
});

const STATE_SQL = {
  active: "ends_at > {now:DateTime64(3, 'UTC')}",
  expired: "ends_at <= {now:DateTime64(3, 'UTC')}",
  all: '1',
} as const;

/** Silences running at `now` (active), ended by then (expired), or all. */
export const silencesByState = namedQuery({
  name: 'silences.byState',
  row: SilenceRow,
  statement: ({ state, now }: { state: keyof typeof STATE_SQL; now: Date }) => ({
    sql: select(STATE_SQL[state]), values: { now: toClickHouseTime(now) },
  }),
});
