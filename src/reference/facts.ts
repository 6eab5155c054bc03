import type { Redis } from 'ioredis';
import { readAgencies, readCompanies, type AgencyFacts } from '../rules/context.js';
import type { CompanyFacts } from '../rules/events.js';
import type { Storage } from '../storage/index.js';
import { referenceGenerationKey } from './homes.js';

/**
 * What the engine needs of reference data (each company's facts, each agency's name and region), remembered by the process
 * that evaluates. Every reference upsert bumps the generation in Redis after its write (./homes.ts, `moved`); a read
 * that finds it changed forgets everything first. So an evaluation costs one Redis GET here instead of two
 * ClickHouse queries, which the embedded engine runs one at a time with every other bound query of the process.
 * Ids without a record are remembered as such too (the engine then places the company by its events).
 */
export interface ReferenceFacts {
  companies(ids: readonly string[]): Promise<Map<string, CompanyFacts>>;
  agencyNames(ids: readonly string[]): Promise<Map<string, string>>;
  /** Names and regions, as plan checks read them (one memory with the names). */
  agencies(ids: readonly string[]): Promise<Map<string, AgencyFacts>>;
}

/** Enough for every company of a province; past it the oldest are forgotten (read again). */
export const MAX_REMEMBERED_FACTS = 200_000;

export function createReferenceFacts(redis: Redis, storage: Storage, prefix: string): ReferenceFacts {
  const generationKey = referenceGenerationKey(prefix);
  let memory = { generation: null as string | null, companies: new Map<string, CompanyFacts | null>(), agencies: new Map<string, AgencyFacts | null>() };

  async function current() {
    const generation = await redis.get(generationKey);
    if (generation !== memory.generation) memory = { generation, companies: new Map(), agencies: new Map() };
    return memory;
  }

  /** Known ids from memory, the others read once and remembered (a memory replaced meanwhile keeps nothing read for the old one). */
  async function lookup<T>(ids: readonly string[], pick: (m: typeof memory) => Map<string, T | null>, read: (missing: string[]) => Promise<Map<string, T>>) {
    const seen = await current();
    const known = pick(seen);
    const found = new Map<string, T>();
    const missing: string[] = [];
    for (const id of new Set(ids)) {
      const value = known.get(id);
      if (value === undefined) missing.push(id);
      else if (value !== null) found.set(id, value);
    }
    if (missing.length === 0) return found;
    const fetched = await read(missing);
    for (const id of missing) {
      const value = fetched.get(id);
      if (value !== undefined) found.set(id, value);
      known.delete(id);
      known.set(id, value ?? null);
    }
    for (const id of known.keys()) {
      if (known.size <= MAX_REMEMBERED_FACTS) break;
      known.delete(id);
    }
    return found;
  }

  const agencies = (ids: readonly string[]) => lookup(ids, (m) => m.agencies, (missing) => readAgencies(storage, missing));
  return {
    companies: (ids) => lookup(ids, (m) => m.companies, (missing) => readCompanies(storage, missing)),
    agencies,
    agencyNames: async (ids) => new Map([...(await agencies(ids))].map(([id, agency]) => [id, agency.name])),
  };
}
