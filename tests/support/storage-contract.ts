/**
 * The storage contract: what every Storage adapter must do, declared once and
 * run against each adapter (embedded chdb, the server adapter via the chdb HTTP
 * shim, and a real ClickHouse server when CLICKHOUSE_URL is set).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate, missingTables, pendingMigrations, type Migration } from '../../src/storage/migrations.js';
import { compactRows } from '../../src/storage/compact-rows.js';
import { fromClickHouseTime, toClickHouseTime, type Storage } from '../../src/storage/port.js';

export interface StorageUnderTest {
  storage: Storage;
  /** Closes the storage and removes whatever the setup created. */
  teardown(): Promise<void>;
}

/** The ClickHouse error code an adapter's error carries (chdb: clickhouseCode; @clickhouse/client: code as a string). */
export function clickHouseCode(err: unknown): number | undefined {
  const e = err as { clickhouseCode?: unknown; code?: unknown } | null;
  if (typeof e?.clickhouseCode === 'number') return e.clickhouseCode;
  if (typeof e?.code === 'string' && /^\d+$/.test(e.code)) return Number(e.code);
  return undefined;
}

async function failure(work: Promise<unknown>): Promise<Error> {
  try {
    await work;
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    return err as Error;
  }
  throw new Error('expected the storage call to fail, but it succeeded');
}

/** Strings that break string-built SQL, text escaping or encodings if anything splices values into SQL. */
const AWKWARD = [
  "O'Reilly",
  'back\\slash',
  "\\'",
  "'",
  '\\',
  'ends with a backslash\\',
  'line1\nline2',
  'tab\there',
  'cr\rand crlf\r\n',
  '清检：市场监管局“双随机、一公开”抽查',
  '🙂 emoji',
  "' OR 1=1 --",
  "'); DROP TABLE contract_values; --",
  '{text:String}',
  '\\N',
  '%27%5C%00',
  '',
  '  spaced  ',
];

export function describeStorageContract(name: string, setup: () => Promise<StorageUnderTest>): void {
  describe(`storage contract: ${name}`, () => {
    let under: StorageUnderTest | undefined;
    const storage = () => {
      if (!under) throw new Error('storage setup failed');
      return under.storage;
    };

    beforeAll(async () => {
      under = await setup();
    });
    afterAll(async () => {
      await under?.teardown();
    });

    it('answers ping', async () => {
      await expect(storage().ping()).resolves.toBeUndefined();
    });

    it('releases freed memory on request and keeps answering', async () => {
      await expect(storage().releaseMemory()).resolves.toBeUndefined();
      expect(await storage().query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    });

    it('migrate() applies every migration once and records it in schema_migrations', async () => {
      const s = storage();
      const needed = ['events', 'enterprises', 'agencies'];
      expect(await missingTables(s, needed)).toEqual(needed);
      expect(await pendingMigrations(s)).toEqual(MIGRATIONS);
      expect(await migrate(s)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await missingTables(s, needed)).toEqual([]);

      const recorded = await s.query<{ version: number | string; name: string; checksum: string }>(
        'SELECT version, name, checksum FROM schema_migrations FINAL ORDER BY version',
      );
      expect(recorded.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((m) => m.version));
      expect(recorded.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
      for (const r of recorded) expect(r.checksum).toMatch(/^[0-9a-f]{64}$/);

      const tables = await s.query<{ name: string }>(
        'SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name',
      );
      expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['agencies', 'enterprises', 'events', 'schema_migrations']));

      expect(await pendingMigrations(s)).toEqual([]);
      expect(await migrate(s)).toEqual([]);
      const again = await s.query<{ n: number | string }>('SELECT count() AS n FROM schema_migrations FINAL');
      expect(Number(again[0]?.n)).toBe(MIGRATIONS.length);
    });

    it('refuses to go on when an applied migration was edited', async () => {
      const s = storage();
      const edited: Migration[] = MIGRATIONS.map((m, i) =>
        i === 0 ? { ...m, statements: m.statements.map((sql) => sql.replace('CODEC(ZSTD(3))', 'CODEC(ZSTD(1))')) } : m,
      );
      expect(edited[0]!.statements).not.toEqual(MIGRATIONS[0]!.statements);
      await expect(pendingMigrations(s, edited)).rejects.toThrow(/migration 1 \(events\) was changed/);
      await expect(migrate(s, edited)).rejects.toThrow(/was changed after it was applied/);
    });

    it('applies only a migration added later, once', async () => {
      const s = storage();
      const later: Migration = {
        version: 1000,
        name: 'contract extra',
        statements: ['CREATE TABLE IF NOT EXISTS contract_extra (a String) ENGINE = MergeTree ORDER BY a'],
      };
      const all = [...MIGRATIONS, later];
      expect(await pendingMigrations(s, all)).toEqual([later]);
      expect(await migrate(s, all)).toEqual([1000]);
      expect(await migrate(s, all)).toEqual([]);
      expect(await pendingMigrations(s)).toEqual([]);
      await expect(s.query('SELECT count() FROM contract_extra')).resolves.toHaveLength(1);
    });

    describe('values round trip', () => {
      const base = Date.UTC(2025, 2, 14, 9, 30, 15, 123);
      const rows = AWKWARD.map((text, i) => ({
        id: `row-${String(i).padStart(2, '0')}`,
        at: toClickHouseTime(new Date(base + i * 60_001)),
        tags: [text, `tag-${i}`, '中文标签'],
        note: i % 3 === 0 ? null : `note ${text}`,
        flag: i % 2 === 0,
        text,
      }));

      beforeAll(async () => {
        await storage().command(
          `CREATE TABLE IF NOT EXISTS contract_values (
             id String,
             at DateTime64(3, 'UTC'),
             tags Array(String),
             note Nullable(String),
             flag Bool,
             text String
           ) ENGINE = MergeTree ORDER BY id`,
        );
        await storage().insert('contract_values', rows);
      });

      it('reads back what was inserted: DateTime64(3), arrays, Nullable, Bool, awkward strings', async () => {
        const back = await storage().query<(typeof rows)[number]>(
          'SELECT id, at, tags, note, flag, text FROM contract_values ORDER BY id',
        );
        expect(back).toEqual(rows);
        for (const [i, row] of back.entries()) expect(fromClickHouseTime(row.at).getTime()).toBe(base + i * 60_001);
      });

      it('hands back the same rows as the engine wrote them (queryCompact), bound or not, for another thread to decode', async () => {
        const sql = 'SELECT id, at, tags, note, flag, text FROM contract_values';
        const bytes = await storage().queryCompact(`${sql} ORDER BY id`);
        expect(bytes).toBeInstanceOf(Uint8Array);
        expect(compactRows(bytes)).toEqual(rows);
        const bound = await storage().queryCompact(`${sql} WHERE text = {text:String}`, { text: AWKWARD[9]! });
        expect(compactRows(bound)).toEqual([rows[9]]);
        expect(compactRows(await storage().queryCompact(`${sql} WHERE id = 'none'`))).toEqual([]);
      });

      it('binds parameters of every kind server-side and returns them unchanged', async () => {
        const t = toClickHouseTime(new Date(base));
        for (const text of AWKWARD) {
          const [echo] = await storage().query(
            `SELECT {s:String} AS s, {arr:Array(String)} AS arr, {absent:Nullable(String)} AS absent,
                    {present:Nullable(String)} AS present, {yes:Bool} AS yes, {no:Bool} AS no,
                    {t:DateTime64(3, 'UTC')} AS t, {n:UInt32} AS n`,
            { s: text, arr: [text, "it's", 'a\\b', '中'], absent: null, present: text, yes: true, no: false, t, n: 42 },
          );
          expect(echo).toEqual({ s: text, arr: [text, "it's", 'a\\b', '中'], absent: null, present: text, yes: true, no: false, t, n: 42 });
        }
      });

      it('binds a Date parameter to DateTime64(3) with its milliseconds', async () => {
        const at = new Date(base + 3 * 60_001);
        const [echo] = await storage().query<{ t: string }>("SELECT {t:DateTime64(3, 'UTC')} AS t", { t: at });
        expect(echo?.t).toBe(toClickHouseTime(at));
        const found = await storage().query<{ id: string }>("SELECT id FROM contract_values WHERE at = {at:DateTime64(3, 'UTC')}", { at });
        expect(found).toEqual([{ id: rows[3]!.id }]);
      });

      it('filters by parameters: each awkward string matches exactly its own row', async () => {
        for (const [i, text] of AWKWARD.entries()) {
          const found = await storage().query<{ id: string }>('SELECT id FROM contract_values WHERE text = {text:String} ORDER BY id', { text });
          expect(found, JSON.stringify(text)).toEqual([{ id: rows[i]!.id }]);
        }
        const injected = await storage().query<{ n: number | string }>(
          "SELECT count() AS n FROM contract_values WHERE text = {text:String} OR id = {id:String}",
          { text: "x' OR '1'='1", id: "' OR 1=1 --" },
        );
        expect(Number(injected[0]?.n)).toBe(0);
      });

      it('filters by DateTime64, array and Nullable parameters', async () => {
        const found = await storage().query<{ id: string; at: string }>(
          `SELECT id, at FROM contract_values
           WHERE at >= {from:DateTime64(3, 'UTC')} AND at < {to:DateTime64(3, 'UTC')}
             AND hasAny(tags, {tags:Array(String)})
             AND (note IS NULL OR note != {not_note:Nullable(String)})
           ORDER BY at`,
          {
            from: rows[1]!.at,
            to: rows[9]!.at,
            tags: [AWKWARD[1]!, AWKWARD[3]!, AWKWARD[6]!, AWKWARD[9]!, 'no such tag'],
            not_note: rows[1]!.note,
          },
        );
        // rows 1, 3, 6 and 9 carry those tags; 9 is at `to` (excluded), 1 has the excluded note
        expect(found).toEqual([rows[3]!, rows[6]!].map((r) => ({ id: r.id, at: r.at })));
        // DateTime64 parameters keep their milliseconds
        const edge = await storage().query<{ id: string }>(
          "SELECT id FROM contract_values WHERE at = {at:DateTime64(3, 'UTC')}",
          { at: rows[9]!.at },
        );
        expect(edge).toEqual([{ id: rows[9]!.id }]);
      });

      it('keeps the table intact after all of that', async () => {
        const [count] = await storage().query<{ n: number | string }>('SELECT count() AS n FROM contract_values');
        expect(Number(count?.n)).toBe(rows.length);
      });
    });

    it('stores an unpaired surrogate as U+FFFD in every string column, and leaves pairs and text that spells the escape alone', async () => {
      const s = storage();
      await s.command('CREATE TABLE IF NOT EXISTS contract_surrogates (id String, text String, tags Array(String), note Nullable(String)) ENGINE = MergeTree ORDER BY id');
      const rows = [
        { id: 'a-lone-high', text: 'before\ud800after', tags: ['\udbff', 'ok'], note: 'x\ud83d' },
        { id: 'b-lone-low', text: '\udc00 at the start', tags: [], note: null },
        { id: 'c-pair', text: '🙂 paired \ud83d\ude42', tags: ['\ud83d\ude42'], note: '🙂' },
        // The escape's letters as text (a backslash, then "ud800"), with nothing unpaired in the row.
        { id: 'd-spelled', text: '\\ud800 and \\udc00', tags: ['\\ud83d'], note: 'C:\\udisk' },
        { id: 'e-plain', text: '清检', tags: ['中文'], note: null },
      ];
      await s.insert('contract_surrogates', rows);
      const back = await s.query('SELECT id, text, tags, note FROM contract_surrogates ORDER BY id');
      expect(back).toEqual([
        { id: 'a-lone-high', text: 'before\ufffdafter', tags: ['\ufffd', 'ok'], note: 'x\ufffd' },
        { id: 'b-lone-low', text: '\ufffd at the start', tags: [], note: null },
        rows[2],
        rows[3],
        rows[4],
      ]);
    });

    it('reads retried identical inserts into events once with FINAL', async () => {
      const s = storage();
      const companies = ['91110000600037341L', '91310000MA1FL8X12Q'];
      const event = (id: string, enterprise_id: string, minute: number) => ({
        id,
        type: 'inspection.started',
        enterprise_id,
        occurred_at: toClickHouseTime(new Date(Date.UTC(2025, 4, 1, 8, minute, 0, 250))),
        received_at: toClickHouseTime(new Date(Date.UTC(2025, 4, 1, 8, minute, 1, 500))),
        region: '310000',
        officer_ids: ['officer-1', 'officer-2'],
        onsite: true,
        started_at: null,
        payload: JSON.stringify({ id, note: "retry's payload 中文" }),
      });
      const batch = [
        event('evt-1', companies[0]!, 1),
        event('evt-2', companies[0]!, 2),
        // one joint event covering two companies: one row per company
        event('evt-3', companies[0]!, 3),
        event('evt-3', companies[1]!, 3),
      ];
      await s.insert('events', batch);
      await s.insert('events', batch); // the retry of a batch whose acknowledgement got lost
      await s.insert('events', [batch[1]!]);

      const seen = await s.query<{ id: string; enterprise_id: string; occurred_at: string; payload: string; officer_ids: string[]; onsite: boolean }>(
        `SELECT id, enterprise_id, occurred_at, payload, officer_ids, onsite FROM events FINAL
         WHERE enterprise_id IN {companies:Array(String)}
         ORDER BY enterprise_id, occurred_at, id`,
        { companies },
      );
      expect(seen).toEqual(
        batch.map((e) => ({ id: e.id, enterprise_id: e.enterprise_id, occurred_at: e.occurred_at, payload: e.payload, officer_ids: e.officer_ids, onsite: true })),
      );
      const [distinct] = await s.query<{ n: number | string }>(
        'SELECT uniqExact(id) AS n FROM events WHERE enterprise_id IN {companies:Array(String)}',
        { companies },
      );
      expect(Number(distinct?.n)).toBe(3);
    });

    it('runs concurrent parameterised queries without mixing them up', async () => {
      const s = storage();
      const answers = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          s.query<{ i: number; s: string }>('SELECT {i:UInt32} AS i, {s:String} AS s', { i, s: `value '${i}' 中` }),
        ),
      );
      expect(answers).toEqual(Array.from({ length: 24 }, (_, i) => [{ i, s: `value '${i}' 中` }]));
    });

    describe('errors', () => {
      it('surfaces an unknown column as an exception naming it', async () => {
        const err = await failure(storage().query('SELECT no_such_column FROM contract_values'));
        expect(err.message).toMatch(/no_such_column/);
        expect(clickHouseCode(err)).toBe(47); // UNKNOWN_IDENTIFIER
      });

      it('surfaces an unknown table in a query, an insert and a command', async () => {
        const queried = await failure(storage().query('SELECT * FROM no_such_table'));
        expect(queried.message).toMatch(/no_such_table/);
        expect(clickHouseCode(queried)).toBe(60); // UNKNOWN_TABLE

        const inserted = await failure(storage().insert('no_such_table', [{ a: 1 }]));
        expect(inserted.message).toMatch(/no_such_table/);
        expect(clickHouseCode(inserted)).toBe(60);

        const commanded = await failure(storage().command('OPTIMIZE TABLE no_such_table FINAL'));
        expect(commanded.message).toMatch(/no_such_table/);
        expect(clickHouseCode(commanded)).toBe(60);
      });

      it('surfaces a syntax error', async () => {
        const err = await failure(storage().query('SELEKT 1'));
        expect(err.message).toMatch(/Syntax error/i);
        expect(clickHouseCode(err)).toBe(62); // SYNTAX_ERROR
      });

      it('surfaces a missing or unparsable parameter', async () => {
        const missing = await failure(storage().query('SELECT {absent:String} AS a', {}));
        expect(missing.message).toMatch(/absent/);
        expect(clickHouseCode(missing)).toBe(456); // UNKNOWN_QUERY_PARAMETER

        const unparsable = await failure(storage().query('SELECT {n:UInt8} AS n', { n: 'not a number' }));
        expect(unparsable.message).toMatch(/not a number/);
        expect(clickHouseCode(unparsable)).toBe(457); // BAD_QUERY_PARAMETER
      });

      it('surfaces a failing command', async () => {
        const err = await failure(storage().command('CREATE TABLE contract_bad (a String) ENGINE = NoSuchEngine'));
        expect(err.message).toMatch(/NoSuchEngine/);
        expect(clickHouseCode(err)).toBe(56); // UNKNOWN_STORAGE
      });

      it('keeps working after errors', async () => {
        await expect(storage().query<{ one: number }>('SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
        await expect(storage().ping()).resolves.toBeUndefined();
      });
    });
  });
}
