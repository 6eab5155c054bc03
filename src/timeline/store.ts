import { isClickHouseTime, toClickHouseTime, type Storage } from '../storage/index.js';
import { timelinePage } from '../storage/tables/events.js';

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
 * Keyset pagination on (occurred_at, id): see `timelinePage`.
 */
export async function readTimeline(storage: Storage, q: TimelineQuery): Promise<TimelinePage> {
  const after = q.after ?? { occurred_at: toClickHouseTime(new Date(0)), id: '' };
  const rows = await timelinePage(storage, {
    enterpriseId: q.enterpriseId,
    from: toClickHouseTime(q.from),
    to: toClickHouseTime(q.to),
    afterTime: after.occurred_at,
    afterId: after.id,
    limit: q.limit + 1,
  });
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
