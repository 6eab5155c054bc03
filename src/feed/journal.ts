import type { Redis } from 'ioredis';

/**
 * The feed's journal: one Redis stream every API process reads, so an alert a
 * worker raises reaches every socket whichever process holds it, and a client
 * that reconnects replays what it missed from the same log. Entries carry the
 * message once, already serialised, plus the few fields subscribers filter on.
 *
 * Publishing is idempotent per key (an alert id and revision): delivery is
 * at-least-once upstream, and a retried or caught-up delivery must not send a
 * message twice. The marker and the entry are written by one script, so there
 * is never one without the other.
 */
export interface JournalEntry {
  /** Idempotency key: the same key is published once (within DEDUP_TTL_S). */
  key: string;
  /** The message without its seq, as JSON text starting with '{'. */
  payload: string;
  /** Fields subscribers filter on. */
  rule: string;
  severity: string;
  region: string;
  agency: string;
  /** False for entries that only mark the key as delivered (e.g. hotline-only alerts). */
  push: boolean;
}

export interface StoredEntry {
  seq: string;
  payload: string;
  rule: string;
  severity: string;
  region: string;
  agency: string;
}

export interface JournalState {
  /** The newest entry's seq ('0-0' when the stream is empty). */
  latest: string;
  /** The oldest entry still kept (null when the stream is empty). */
  oldest: string | null;
  /** Whether entries were ever trimmed away: then a position before `oldest` may have missed some. */
  trimmed: boolean;
}

/** How long a published key is remembered: longer than any retry or catch-up window. */
const DEDUP_TTL_S = 7 * 24 * 3600;

// KEYS[1] the stream, KEYS[2..] one marker per entry; ARGV[1] max length, ARGV[2] marker TTL,
// then 6 values per entry: push flag, payload, rule, severity, region, agency. Returns how many were new.
const PUBLISH = `
local published = 0
for i = 2, #KEYS do
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[2]) then
    published = published + 1
    local a = 3 + (i - 2) * 6
    if ARGV[a] == '1' then
      redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*',
        'm', ARGV[a + 1], 'rule', ARGV[a + 2], 'sev', ARGV[a + 3], 'region', ARGV[a + 4], 'agency', ARGV[a + 5])
    end
  end
end
return published
`;

export interface Journal {
  publish(entries: readonly JournalEntry[]): Promise<number>;
  /** Which of these keys were never published (or were forgotten after DEDUP_TTL_S). */
  unpublished(keys: readonly string[]): Promise<Set<string>>;
  /** Up to `count` entries after `after` (exclusive; null = from the oldest), in order. */
  range(after: string | null, count: number): Promise<StoredEntry[]>;
  state(): Promise<JournalState>;
  /**
   * Reads new entries as they are appended, on a connection of its own
   * (blocking reads would stall every other command on a shared one).
   */
  follow(onEntries: (entries: StoredEntry[]) => void, onError: (err: Error) => void): { stop(): void };
}

/**
 * The stream's key, `<prefix>:{feed}`. Its markers (`<prefix>:{feed}:sent:<key>`)
 * carry the same Redis Cluster hash tag, because one script writes a marker and
 * its entry together and a script may only touch one slot. Keys without the tag
 * (0.1.0 and before) are renamed at start by src/redis/key-layout.ts.
 */
export const feedStream = (prefix: string) => `${prefix}:{feed}`;

export function createJournal(redis: Redis, prefix: string, options: { retain: number; openReader: () => Redis; readCount?: number }): Journal {
  const stream = feedStream(prefix);
  const marker = (key: string) => `${stream}:sent:${key}`;

  async function state(): Promise<JournalState> {
    const info = await redis.call('XINFO', 'STREAM', stream).catch((err: Error) => {
      if (/no such key/i.test(err.message)) return null;
      throw err;
    }) as unknown[] | null;
    if (!info) return { latest: '0-0', oldest: null, trimmed: false };
    const fields = new Map<string, unknown>();
    for (let i = 0; i < info.length; i += 2) fields.set(String(info[i]), info[i + 1]);
    const first = fields.get('first-entry') as [string, string[]] | null;
    // Trimming (MAXLEN) does not move max-deleted-entry-id in Redis 7.0; entries-added vs length tells.
    return {
      latest: String(fields.get('last-generated-id') ?? '0-0'),
      oldest: first ? first[0] : null,
      trimmed: Number(fields.get('entries-added') ?? 0) > Number(fields.get('length') ?? 0),
    };
  }

  return {
    async publish(entries) {
      if (entries.length === 0) return 0;
      const args = entries.flatMap((e) => [e.push ? '1' : '0', e.payload, e.rule, e.severity, e.region, e.agency]);
      return Number(await redis.eval(PUBLISH, 1 + entries.length, stream, ...entries.map((e) => marker(e.key)), options.retain, DEDUP_TTL_S, ...args));
    },

    async unpublished(keys) {
      if (keys.length === 0) return new Set();
      // One MGET: the markers share the stream's hash tag, so one command may read them all (a pipeline of EXISTS
      // cost ioredis a command object and a reply per key).
      const markers = await redis.mget(keys.map(marker));
      return new Set(keys.filter((_, i) => markers[i] === null));
    },

    async range(after, count) {
      const start = after === null ? '-' : `(${after}`;
      return parseEntries(await redis.xrange(stream, start, '+', 'COUNT', count));
    },

    state,

    follow(onEntries, onError) {
      const reader = options.openReader();
      let stopped = false;
      (async () => {
        // Start from a concrete id: '$' on every call would skip entries appended between two reads.
        let last: string | null = null;
        while (!stopped) {
          try {
            last ??= (await state()).latest;
            const reply = await reader.xread('COUNT', options.readCount ?? 200, 'BLOCK', 5000, 'STREAMS', stream, last);
            const entries = parseEntries(reply?.[0]?.[1] ?? []);
            if (entries.length === 0) continue;
            last = entries.at(-1)!.seq;
            onEntries(entries);
          } catch (err) {
            if (stopped) break;
            onError(err as Error);
            await new Promise((r) => setTimeout(r, 500));
          }
        }
      })().catch(onError);
      return {
        stop() {
          stopped = true;
          reader.disconnect();
        },
      };
    },
  };
}

function parseEntries(raw: Array<[string, string[]]>): StoredEntry[] {
  return raw.map(([seq, fields]) => {
    const f: Record<string, string> = {};
    for (let i = 0; i < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
    return { seq, payload: f.m ?? '{}', rule: f.rule ?? '', severity: f.sev ?? '', region: f.region ?? '', agency: f.agency ?? '' };
  });
}
