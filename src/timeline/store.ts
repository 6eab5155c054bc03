import { isClickHouseTime, toClickHouseTime, type Storage } from '../storage/index.js';

export interface TimelinePage {
  items: Array<Record<string, unknown>>;
  next_cursor: string | null;
}

export interface TimelineQuery {
  enterpriseId: string;
  from: Date;
  to: Date;
  limit: number;
  after?: Cursor;
}

/** Position after the last item of a page: (event time, id) orders the timeline totally. */
export interface Cursor {
  occurred_at: string;
  id: string;
}

/**
 * A company's events in event-time order: the public inspection record.
 * Keyset pagination on (occurred_at, id) stays correct while late events
 * arrive, and reads one key range of the table's (enterprise_id, occurred_at) order.
 */
export async function readTimeline(storage: Storage, q: TimelineQuery): Promise<TimelinePage> {
  const after = q.after ?? { occurred_at: toClickHouseTime(new Date(0)), id: '' };
  const rows = await storage.query<{ id: string; occurred_at: string; received_at: string; payload: string }>(
    `SELECT id, occurred_at, received_at, payload
     FROM events FINAL
     WHERE enterprise_id = {enterprise:String}
       AND occurred_at >= {from:DateTime64(3, 'UTC')} AND occurred_at < {to:DateTime64(3, 'UTC')}
       AND (occurred_at, id) > ({after_time:DateTime64(3, 'UTC')}, {after_id:String})
     ORDER BY occurred_at, id
     LIMIT {limit:UInt32}`,
    {
      enterprise: q.enterpriseId,
      from: toClickHouseTime(q.from),
      to: toClickHouseTime(q.to),
      after_time: after.occurred_at,
      after_id: after.id,
      limit: q.limit + 1,
    },
  );
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  return {
    items: page.map((r) => ({ ...JSON.parse(r.payload), received_at: isoUtc(r.received_at) })),
    next_cursor: rows.length > q.limit && last ? encodeCursor({ occurred_at: last.occurred_at, id: last.id }) : null,
  };
}

export const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify([c.occurred_at, c.id])).toString('base64url');

export function decodeCursor(text: string): Cursor | null {
  try {
    const [occurred_at, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (typeof occurred_at !== 'string' || typeof id !== 'string') return null;
    if (!isClickHouseTime(occurred_at)) return null;
    return { occurred_at, id };
  } catch {
    return null;
  }
}

const isoUtc = (clickhouseTime: string) => clickhouseTime.replace(' ', 'T') + 'Z';
