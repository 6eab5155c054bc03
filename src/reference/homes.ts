import type { Redis } from 'ioredis';
import { createBatcher } from '../batcher.js';
import { bucketOf, mgetByBucket } from '../ingest/seen-ids.js';
import type { ReferenceStore } from './store.js';

/**
 * Where each company and agency is at home: the region that decides whose
 * jurisdiction a write about it falls in. Reference data says it (PUT
 * /v1/enterprises, /v1/agencies); a company or agency that no reference data
 * names yet is at home in the region of the first accepted event naming it,
 * until reference data says otherwise.
 *
 * Ingest asks on every request, so the answer must be cheap and must not need
 * ClickHouse (events keep being accepted while it is down). The homes live in
 * the coordination Redis, `<prefix>:home:{<bucket>}:<kind>:<id>` → region:
 * reference data is mirrored there by every upsert (and on first use, for rows
 * written before), registrations are made there. Each API process remembers
 * the homes it used; an upsert bumps `<prefix>:home:generation`, and a process
 * that sees it changed (it looks at most every HOME_CHECK_MS) forgets them all.
 */
export type HomeKind = 'enterprise' | 'agency';

/** How stale a process's memory of homes may be: a moved company is judged by its new home within this delay everywhere. */
const HOME_CHECK_MS = 1_000;
// Enough for every company of a province; past it the oldest are forgotten (read again from Redis).
const MAX_REMEMBERED = 200_000;
/** How long a lookup in reference data waits for others to share its read, and how many ids make it go at once. */
const REFERENCE_READ_WAIT_MS = 2;
const REFERENCE_READ_IDS = 5_000;

export interface Homes {
  /** The home region of each id that has one (ids without a home are left out). */
  regions(kind: HomeKind, ids: readonly string[]): Promise<Map<string, string>>;
  /**
   * Registers ids that have no home yet at the given regions (the first registration wins, across
   * processes); returns the home each id has now, which is another region when someone was first.
   */
  register(kind: HomeKind, homes: ReadonlyMap<string, string>): Promise<Map<string, string>>;
  /** Reference data now places these ids here (call after it is stored): every process judges by it within HOME_CHECK_MS. */
  moved(kind: HomeKind, homes: ReadonlyMap<string, string>): Promise<void>;
}

/** Bumped by every reference upsert, after its write: whoever remembers reference data forgets it when this changes. */
export const referenceGenerationKey = (prefix: string) => `${prefix}:home:generation`;

export function createHomes(redis: Redis, reference: Pick<ReferenceStore, 'storedRegions'>, prefix: string, clock: () => number = Date.now): Homes {
  const generationKey = referenceGenerationKey(prefix);
  const keyOf = (kind: HomeKind, id: string) => {
    const name = `${kind}:${id}`;
    const bucket = bucketOf(name);
    return { key: `${prefix}:home:{${bucket}}:${name}`, bucket };
  };

  const remembered = new Map<string, string>();
  // Bumped whenever the memory is dropped: a lookup that started before must not put back what it read.
  let epoch = 0;
  let generation: string | null = null;
  let checkedAt = -Infinity;
  let checking: Promise<void> | null = null;

  const forget = () => {
    remembered.clear();
    epoch++;
  };

  function remember(kind: HomeKind, found: ReadonlyMap<string, string>, since: number): void {
    if (since !== epoch) return;
    for (const [id, region] of found) {
      const name = `${kind}:${id}`;
      remembered.delete(name);
      remembered.set(name, region);
    }
    for (const name of remembered.keys()) {
      if (remembered.size <= MAX_REMEMBERED) break;
      remembered.delete(name);
    }
  }

  function checkGeneration(): Promise<void> {
    if (clock() - checkedAt < HOME_CHECK_MS) return Promise.resolve();
    checking ??= (async () => {
      try {
        const now = await redis.get(generationKey);
        if (now !== generation) forget();
        generation = now;
        checkedAt = clock();
      } finally {
        checking = null;
      }
    })();
    return checking;
  }

  /** SET NX of each home, answering the home each id has afterwards (its own or the one set before). */
  async function setFirst(kind: HomeKind, homes: ReadonlyMap<string, string>): Promise<Map<string, string>> {
    if (homes.size === 0) return new Map();
    const entries = [...homes];
    const pipeline = redis.pipeline();
    for (const [id, region] of entries) pipeline.set(keyOf(kind, id).key, region, 'NX', 'GET');
    const replies = (await pipeline.exec()) ?? [];
    return new Map(entries.map(([id, region], i) => {
      const [err, before] = replies[i] ?? [new Error('no reply')];
      if (err) throw err;
      return [id, typeof before === 'string' ? before : region];
    }));
  }

  // Reference data written before homes were kept in Redis is mirrored on first use; NX, because an
  // upsert that wrote Redis meanwhile holds the newer region. Every company or agency no reference data names is
  // looked for there once too, before its first event registers it: the lookups of requests arriving together share
  // one read. One read each made the single events of companies new to the service wait their turn at the engine
  // (docs/performance.md, the second session of 2026-12-07).
  const referenceReads = {
    enterprise: readReferenceTogether('enterprise'),
    agency: readReferenceTogether('agency'),
  };
  function readReferenceTogether(kind: HomeKind) {
    return createBatcher<string, string | null>({
      maxItems: REFERENCE_READ_IDS,
      maxWaitMs: REFERENCE_READ_WAIT_MS,
      write: async (ids) => {
        const found = await setFirst(kind, await reference.storedRegions(kind, ids));
        return ids.map((id) => found.get(id) ?? null);
      },
    });
  }
  async function fromReference(kind: HomeKind, ids: readonly string[]): Promise<Map<string, string>> {
    const regions = await referenceReads[kind].add(ids);
    return new Map(ids.flatMap((id, i) => (regions[i] == null ? [] : [[id, regions[i]] as const])));
  }

  return {
    async regions(kind, ids) {
      await checkGeneration();
      const since = epoch;
      const found = new Map<string, string>();
      const missing: string[] = [];
      for (const id of new Set(ids)) {
        const region = remembered.get(`${kind}:${id}`);
        if (region === undefined) missing.push(id);
        else found.set(id, region);
      }
      if (missing.length === 0) return found;
      const learned = new Map<string, string>();
      const values = await mgetByBucket(redis, missing.map((id) => keyOf(kind, id)));
      const notInRedis: string[] = [];
      missing.forEach((id, i) => {
        const region = values[i];
        if (region === null || region === undefined) notInRedis.push(id);
        else learned.set(id, region);
      });
      if (notInRedis.length > 0) for (const [id, region] of await fromReference(kind, notInRedis)) learned.set(id, region);
      remember(kind, learned, since);
      for (const [id, region] of learned) found.set(id, region);
      return found;
    },

    async register(kind, homes) {
      const since = epoch;
      const settled = await setFirst(kind, homes);
      remember(kind, settled, since);
      return settled;
    },

    async moved(kind, homes) {
      if (homes.size === 0) return;
      const pipeline = redis.pipeline();
      for (const [id, region] of homes) pipeline.set(keyOf(kind, id).key, region);
      pipeline.incr(generationKey);
      for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
      // This process judges by the new homes at once; the others once they see the generation change.
      forget();
    },
  };
}
