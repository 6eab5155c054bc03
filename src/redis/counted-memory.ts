import type { Redis } from 'ioredis';

/**
 * What a process remembers per key (a company's events, its alerts), trusted only while a count in Redis says
 * nothing was written since. Every writer counts its writes (`count`); a reader reads the counts first (`read`)
 * and uses what it holds at exactly that count, else reads storage and remembers the result at the count it read
 * before that storage read. The counts live in one hash with an epoch field set once: a Redis that lost the hash
 * loses the epoch with it, and every process forgets everything instead of trusting counts that start again from zero.
 * A process also forgets everything when its connection closes (a restart may have lost the last counts).
 */
export interface CountedMemory<V> {
  /** The keys' counts now, with what this process holds of them. */
  read(keys: readonly string[]): Promise<Counted<V>>;
  /** Counts one write of each key; returns the new counts, with what this process holds of them. */
  count(keys: readonly string[]): Promise<Counted<V>>;
}

/** A view of one process's memory at the counts just read from Redis. */
export interface Counted<V> {
  /** The count read for the key (0 when it was never counted). */
  version(key: string): number;
  /** The value held for the key if it is at the count read (it becomes the most recently used). */
  current(key: string): V | undefined;
  /** The value held for the key and its count, whatever that count is. */
  held(key: string): { version: number; value: V } | undefined;
  /** Remembers the key's value at a count; then forgets the least recently used keys past the limit. */
  remember(key: string, version: number, value: V): void;
}

export interface CountedMemoryOptions<V> {
  redis: Redis;
  /** The hash holding the counts. */
  key: string;
  /** How much may be held across keys, in the unit of `sizeOf`. */
  maxSize: number;
  sizeOf(value: V): number;
}

const EPOCH_FIELD = '~epoch';

// One command however many keys are counted (a pipeline of one HINCRBY per company cost ioredis a command each):
// KEYS[1] the hash, ARGV[1] the epoch to set unless one is, ARGV[2..] the keys. Returns the epoch, then each new count.
const COUNT = `
redis.call('HSETNX', KEYS[1], '${EPOCH_FIELD}', ARGV[1])
local out = { redis.call('HGET', KEYS[1], '${EPOCH_FIELD}') }
for i = 2, #ARGV do out[i] = redis.call('HINCRBY', KEYS[1], ARGV[i], 1) end
return out`;

export function createCountedMemory<V>(options: CountedMemoryOptions<V>): CountedMemory<V> {
  const { redis, key } = options;
  const empty = () => ({ epoch: null as string | null, entries: new Map<string, { version: number; value: V; size: number }>(), size: 0 });
  // Replaced whole when the epoch changes; a view keeps the one it was made with, so it never fills a newer one.
  let state = empty();
  // A Redis that restarts may come back without its last counts (appendfsync everysec): a count that went back could
  // vouch for memory that misses rows stored meanwhile. Every restart closes the connection, so memory goes with it.
  redis.on('close', () => {
    state = empty();
  });

  function view(epoch: string | null, versions: Map<string, number>): Counted<V> {
    if (epoch !== state.epoch) state = { ...empty(), epoch };
    const own = state;
    return {
      version: (k) => versions.get(k) ?? 0,
      current(k) {
        const entry = own.entries.get(k);
        if (!entry || entry.version !== versions.get(k)) return undefined;
        own.entries.delete(k);
        own.entries.set(k, entry);
        return entry.value;
      },
      held(k) {
        const entry = own.entries.get(k);
        return entry && { version: entry.version, value: entry.value };
      },
      remember(k, version, value) {
        own.size -= own.entries.get(k)?.size ?? 0;
        own.entries.delete(k);
        const size = options.sizeOf(value);
        own.entries.set(k, { version, value, size });
        own.size += size;
        for (const [old, entry] of own.entries) {
          if (own.size <= options.maxSize) break;
          own.size -= entry.size;
          own.entries.delete(old);
        }
      },
    };
  }

  const newEpoch = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  /** Sets the epoch unless set and counts one write of each key, in one command; returns the epoch and the new counts. */
  const countAll = async (keys: readonly string[]) => {
    const [epoch, ...counts] = await redis.eval(COUNT, 1, key, newEpoch(), ...keys) as [string, ...number[]];
    return { epoch, versions: new Map(keys.map((k, i) => [k, Number(counts[i])])) };
  };

  return {
    async read(keys) {
      const [epoch, ...values] = await redis.hmget(key, EPOCH_FIELD, ...keys);
      const versions = new Map(keys.map((k, i) => [k, Number(values[i] ?? 0)]));
      if (epoch !== null) return view(epoch, versions);
      // Nothing counted yet: the epoch is set now, else the first write would set it and this memory be forgotten.
      return view((await countAll([])).epoch, versions);
    },
    async count(keys) {
      const { epoch, versions } = await countAll([...new Set(keys)]);
      return view(epoch, versions);
    },
  };
}
