import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FileValidation,
  columnType,
  compileField,
  fieldSchema,
  copyRowsOf,
  openTables,
  inTransaction,
  loadTable,
  checkSchemaVersion,
  migrate,
  migrations,
  requiredSchemaVersion,
  SchemaBehindError,
  tableSchemaSchema,
  type TableSchema,
} from '@datacycle/core';
import { ownDatabase, testPool, uniqueName } from '../helpers/local-cloud';

const pool = testPool();
const schemaName = uniqueName('it_wh').replaceAll('-', '_');

const communes: TableSchema = tableSchemaSchema.parse({
  fields: [
    { name: 'code', type: 'string' },
    { name: 'population', type: 'integer' },
    { name: 'centre', type: 'geopoint' },
  ],
  primaryKey: 'code',
});

// Two batches, to cover rows spread over several COPY messages.
async function* batches(values: (string | null)[][]) {
  const rows = values.map((row, index) => ({ rowNumber: index + 2, values: row }));
  if (rows.length > 0) yield rows.slice(0, 1);
  if (rows.length > 1) yield rows.slice(1);
}

async function load(
  table: string,
  mode: 'replace' | 'append' | 'upsert',
  values: (string | null)[][],
  schema = communes,
) {
  return inTransaction(pool, (client) =>
    loadTable(client, {
      schemaName,
      table,
      tableSchema: schema,
      mode,
      copyRows: copyRowsOf(batches(values), schema.fields, {
        loadId: crypto.randomUUID(),
        sourceKey: 'test.csv',
      }),
    }),
  );
}

const tableRows = async (table: string) =>
  (
    await pool.query(
      `SELECT code, population::text, ST_AsText(centre) AS centre FROM "${schemaName}"."${table}" ORDER BY code`,
    )
  ).rows;

beforeAll(async () => {
  await migrate(pool);
  await pool.query(`CREATE SCHEMA "${schemaName}"`);
});
afterAll(async () => {
  await pool.query(`DROP SCHEMA "${schemaName}" CASCADE`);
  await pool.end();
});

describe('warehouse (PostgreSQL)', () => {
  describe('migrate', () => {
    it('is idempotent: a second run applies nothing', async () => {
      const again = await migrate(pool);
      expect(again.applied).toEqual([]);
      const { rows: schemas } = await pool.query(
        `SELECT nspname FROM pg_namespace WHERE nspname IN ('raw','enriched','ops') ORDER BY 1`,
      );
      expect(schemas.map((r) => r.nspname)).toEqual(['enriched', 'ops', 'raw']);
    });
  });

  describe('checkSchemaVersion', () => {
    it('passes a database with every migration, and names what to do when one is behind', async () => {
      expect(await checkSchemaVersion(pool)).toBe(requiredSchemaVersion());
      const name = `datacycle_${uniqueName('behind').replace('-', '_')}`;
      const behind = await ownDatabase(name);
      try {
        await expect(checkSchemaVersion(behind)).rejects.toThrow(
          `the database schema is at version 0, this datacycle needs ${requiredSchemaVersion()}`,
        );
        await migrate(behind, migrations.slice(0, 3));
        await expect(checkSchemaVersion(behind)).rejects.toBeInstanceOf(SchemaBehindError);
        await expect(checkSchemaVersion(behind)).rejects.toThrow(
          /at version 3, .* the deploy's migration \(the Migrations resource of the stack\) has not run or failed/,
        );
        await migrate(behind);
        expect(await checkSchemaVersion(behind)).toBe(requiredSchemaVersion());
      } finally {
        await behind.end();
        await pool.query(`DROP DATABASE ${name}`);
      }
    });
  });

  describe('loadTable', () => {
    // As validation gives a point (its EWKB bytes).
    const point = (lon: number, lat: number) => {
      const cast = compileField(fieldSchema.parse({ name: 'p', type: 'geopoint' })).cast(`${lon}, ${lat}`);
      return cast.ok ? cast.value : null;
    };

    it('hands each chunk back once the connection wrote it out: reused at once, the rows still load whole', async () => {
      const rows = Array.from({ length: 30_000 }, (_, index) => [
        `c${String(index).padStart(6, '0')}`,
        String(index),
        point(index / 1000, 45),
      ]);
      // Chunks of 3,000 rows (~140 kB each, over a socket's high-water mark).
      async function* chunked() {
        for (let at = 0; at < rows.length; at += 3000)
          yield rows.slice(at, at + 3000).map((values, offset) => ({ rowNumber: at + offset + 2, values }));
      }
      const yielded = new Set<Uint8Array>();
      const copyRows = (async function* () {
        for await (const chunk of copyRowsOf(chunked(), communes.fields, {
          loadId: crypto.randomUUID(),
          sourceKey: 'k',
        })) {
          yielded.add(chunk);
          yield chunk;
        }
      })();
      let handedBack = 0;
      const result = await inTransaction(pool, (client) =>
        loadTable(client, {
          schemaName,
          table: 'released_t',
          tableSchema: communes,
          mode: 'replace',
          copyRows,
          // As a validation worker would: the buffer is filled again straight away.
          released: (chunk) => {
            expect(yielded.has(chunk)).toBe(true);
            chunk.fill(0xff);
            handedBack++;
          },
        }),
      );

      expect(result.rowsLoaded).toBe(30_000);
      expect(handedBack).toBeGreaterThan(0);
      const { rows: loaded } = await pool.query(
        `SELECT count(*)::int AS n, sum(population)::text AS total, count(DISTINCT code)::int AS codes FROM "${schemaName}".released_t`,
      );
      expect(loaded[0]).toEqual({ n: 30_000, total: String((29_999 * 30_000) / 2), codes: 30_000 });
    });

    it('replace sorts its key and index in memory, for its transaction only, never with less than set', async () => {
      const rows = Array.from({ length: 20_000 }, (_, index) => [`m${index}`, '1', point(index / 1000, 45)]);
      const loadWith = (setting: string) =>
        inTransaction(pool, async (client) => {
          await client.query(`SET LOCAL maintenance_work_mem = '${setting}'`);
          await loadTable(client, {
            schemaName,
            table: 'sorted_t',
            tableSchema: communes,
            mode: 'replace',
            copyRows: copyRowsOf(batches(rows), communes.fields, {
              loadId: crypto.randomUUID(),
              sourceKey: 'k',
            }),
          });
          return (await client.query<{ v: string }>("SELECT current_setting('maintenance_work_mem') AS v"))
            .rows[0]!.v;
        });
      // 20,000 rows want about 2 MB (100 bytes each).
      expect(await loadWith('1MB')).toBe('1954kB');
      expect(await loadWith('8MB')).toBe('8MB');
      const { rows: after } = await pool.query<{ v: string }>(
        "SELECT current_setting('maintenance_work_mem') AS v",
      );
      expect(after[0]!.v).not.toBe('1954kB');
    });

    it('replace swaps the whole content, with geometries and lineage', async () => {
      await load('replace_t', 'replace', [
        ['45234', '117000', point(1.9, 47.9)],
        ['2A004', '70000', point(8.7, 41.9)],
      ]);
      const result = await load('replace_t', 'replace', [['45234', '118000', point(1.9, 47.9)]]);

      expect(result.rowsLoaded).toBe(1);
      expect(await tableRows('replace_t')).toEqual([
        { code: '45234', population: '118000', centre: 'POINT(1.9 47.9)' },
      ]);
      const { rows: lineage } = await pool.query(
        `SELECT _source_key, _row_number FROM "${schemaName}".replace_t`,
      );
      expect(lineage).toEqual([{ _source_key: 'test.csv', _row_number: '2' }]);
      // Spatial joins on the geometry column probe a GiST index.
      const { rows: indexes } = await pool.query(
        `SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'replace_t' AND indexdef LIKE '%gist%'`,
        [schemaName],
      );
      expect(indexes).toHaveLength(1);
    });

    it('replace fills a fresh table and swaps it in: no dead rows, same key and index names', async () => {
      const identity = async () =>
        (
          await pool.query<{ oid: number; dead: string; key: string; gist: string }>(
            `SELECT c.oid::int AS oid, pg_stat_get_dead_tuples(c.oid)::text AS dead,
                    (SELECT conname FROM pg_constraint WHERE conrelid = c.oid AND contype = 'p') AS key,
                    (SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'swap_t' AND indexdef LIKE '%gist%') AS gist
               FROM pg_class c WHERE c.oid = $2::regclass`,
            [schemaName, `"${schemaName}".swap_t`],
          )
        ).rows[0]!;
      await load('swap_t', 'replace', [
        ['1', '1', point(1, 45)],
        ['2', '2', point(2, 46)],
      ]);
      const before = await identity();
      await load('swap_t', 'replace', [['3', '3', point(3, 47)]]);
      const after = await identity();

      expect(after.oid).not.toBe(before.oid);
      expect(after).toMatchObject({ dead: '0', key: 'swap_t_pkey', gist: 'swap_t_centre_gist' });
      expect(await tableRows('swap_t')).toEqual([{ code: '3', population: '3', centre: 'POINT(3 47)' }]);
      const { rows: leftovers } = await pool.query(
        `SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename LIKE 'swap_t%'`,
        [schemaName],
      );
      expect(leftovers).toEqual([{ tablename: 'swap_t' }]);
    });

    it('replace of a wide table ends with the same index, valid', async () => {
      const wide = tableSchemaSchema.parse({
        fields: [
          { name: 'code', type: 'string' },
          ...Array.from({ length: 22 }, (_, i) => ({ name: `f${i}`, type: 'integer' })),
          { name: 'centre', type: 'geopoint' },
        ],
        primaryKey: 'code',
      });
      const row = (code: number, lon: number) => [
        String(code),
        ...Array.from({ length: 22 }, (_, i) => String(i)),
        point(lon, 45),
      ];
      await load('wide_t', 'replace', [row(1, 1), row(2, 2)], wide);
      await load('wide_t', 'replace', [row(3, 3), row(4, 4), row(5, 5)], wide);
      const { rows: indexes } = await pool.query(
        `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename LIKE 'wide_t%' ORDER BY 1`,
        [schemaName],
      );
      expect(indexes.map((index) => index.indexname)).toEqual(['wide_t_centre_gist', 'wide_t_pkey']);
      // The index answers a spatial query the same as a scan of the table.
      const client = await pool.connect();
      try {
        await client.query('SET enable_seqscan = off');
        const { rows } = await client.query(
          `SELECT code FROM "${schemaName}".wide_t WHERE centre && ST_MakeEnvelope(3.5, 44, 5.5, 46, 4326) ORDER BY code`,
        );
        expect(rows).toEqual([{ code: '4' }, { code: '5' }]);
      } finally {
        client.release();
      }
    });

    it('replace keeps the table (deletes and copies in place) when a view reads it', async () => {
      await load('viewed_t', 'replace', [['1', '1', null]]);
      await pool.query(
        `CREATE VIEW "${schemaName}".viewed_v AS SELECT code, population FROM "${schemaName}".viewed_t`,
      );
      const oid = async () =>
        (await pool.query(`SELECT $1::regclass::oid::int AS oid`, [`"${schemaName}".viewed_t`])).rows[0].oid;
      const before = await oid();

      await load('viewed_t', 'replace', [['2', '2', null]]);

      expect(await oid()).toBe(before);
      const { rows } = await pool.query(`SELECT code FROM "${schemaName}".viewed_v`);
      expect(rows).toEqual([{ code: '2' }]);
    });

    it('replace copies in place when a long reader holds the table past the lock timeout', async () => {
      await load('busy_t', 'replace', [['1', '1', null]]);
      const reader = await pool.connect();
      try {
        await reader.query('BEGIN');
        await reader.query(`SELECT count(*) FROM "${schemaName}".busy_t`);
        const oid = async () =>
          (await pool.query(`SELECT $1::regclass::oid::int AS oid`, [`"${schemaName}".busy_t`])).rows[0].oid;
        const before = await oid();

        await inTransaction(pool, (client) =>
          loadTable(client, {
            schemaName,
            table: 'busy_t',
            tableSchema: communes,
            mode: 'replace',
            copyRows: copyRowsOf(batches([['2', '2', null]]), communes.fields, {
              loadId: crypto.randomUUID(),
              sourceKey: 'busy.csv',
            }),
            swapLockTimeoutMs: 200,
          }),
        );

        expect(await oid()).toBe(before);
        expect(await tableRows('busy_t')).toEqual([{ code: '2', population: '2', centre: null }]);
        const { rows } = await pool.query(
          `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1 AND tablename LIKE 'busy_t_%'`,
          [schemaName],
        );
        expect(rows[0].n).toBe(0);
      } finally {
        await reader.query('ROLLBACK');
        reader.release();
      }
    });

    it('a replace that fails leaves the previous snapshot, and no half-built table', async () => {
      await load('failed_t', 'replace', [['1', '1', null]]);
      await expect(
        load('failed_t', 'replace', [
          ['2', '2', null],
          ['2', '3', null],
        ]),
      ).rejects.toThrow(/the rows repeat the primary key of .*failed_t: Key \(code\)=\(2\) is duplicated/);
      expect(await tableRows('failed_t')).toEqual([{ code: '1', population: '1', centre: null }]);
      const { rows } = await pool.query(
        `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1 AND tablename LIKE 'failed_t_%'`,
        [schemaName],
      );
      expect(rows[0].n).toBe(0);
    });

    it('append adds rows; upsert updates by primary key', async () => {
      await load('upsert_t', 'append', [['01001', '800', null]]);
      await load('upsert_t', 'upsert', [
        ['01001', '850', null],
        ['01002', '250', null],
      ]);

      expect(await tableRows('upsert_t')).toEqual([
        { code: '01001', population: '850', centre: null },
        { code: '01002', population: '250', centre: null },
      ]);
    });

    it('rolls back everything when a row breaks the primary key', async () => {
      await load('pk_t', 'replace', [['1', '1', null]]);
      await expect(
        load('pk_t', 'append', [
          ['2', '2', null],
          ['1', '3', null],
        ]),
      ).rejects.toThrow(/duplicate key/);
      expect(await tableRows('pk_t')).toEqual([{ code: '1', population: '1', centre: null }]);
    });
  });

  describe('a CSV file through validation and COPY', () => {
    // Cells with a backslash, tab, CR or LF (COPY text's special characters), in some runs of
    // records and not others, must come back exactly, in comma and tab separated files, with
    // LF and CRLF lines.
    const specials = [
      'back\\slash',
      'a\tb',
      'two\nlines',
      'lone\rcr',
      'crlf\r\ninside',
      '\\N',
      'é — €',
      'say "hi"',
    ];
    const notes = Array.from({ length: 16_000 }, (_, i) =>
      i % 2000 === 7 ? specials[(i / 2000) | 0]! : `note ${i} ${'x'.repeat(i % 50)}`,
    );
    const quote = (text: string, delimiter: string) =>
      text.includes(delimiter) || /["\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;

    it.each([
      [',', '\n', false],
      ['\t', '\r\n', false],
      [',', '\r\n', true],
      ['\t', '\n', true],
    ])(
      'keeps every character (delimiter %j, lines ending %j, cells as UTF-8 bytes: %j)',
      async (delimiter, end, utf8Bytes) => {
        const schema = tableSchemaSchema.parse({
          fields: [
            { name: 'id', type: 'integer' },
            { name: 'note', type: 'string' },
          ],
        });
        const csv =
          `id${delimiter}note${end}` +
          notes.map((note, i) => `${i}${delimiter}${quote(note, delimiter)}${end}`).join('');
        const table = `escapes_${delimiter === ',' ? 'csv' : 'tsv'}${utf8Bytes ? '_bytes' : ''}`;
        const validation = new FileValidation(schema, table);
        await inTransaction(pool, (client) =>
          loadTable(client, {
            schemaName,
            table,
            tableSchema: schema,
            mode: 'replace',
            copyRows: validation.copyRows(
              openTables(Readable.from([Buffer.from(csv)]), { name: 'notes.csv', csv: { utf8Bytes } }),
              {
                loadId: crypto.randomUUID(),
                sourceKey: 'notes.csv',
              },
            ),
          }),
        );
        expect(validation.rows).toMatchObject({ read: 16_000, valid: 16_000 });
        const { rows } = await pool.query<{ note: string }>(
          `SELECT note FROM "${schemaName}"."${table}" ORDER BY id`,
        );
        expect(rows.map((row) => row.note)).toEqual(notes);
      },
    );
  });

  describe('validation and the column types', () => {
    // A value that validation accepts must load: otherwise one cell fails the whole COPY.
    // At the edges of each column type, validation and PostgreSQL must agree.
    const edges: [Record<string, unknown>, string[]][] = [
      [
        { type: 'integer' },
        [
          '9223372036854775807',
          '-9223372036854775808',
          '9223372036854775808',
          '-9223372036854775809',
          '+0042',
        ],
      ],
      [
        { type: 'number' },
        [
          '1e131071',
          '1e131072',
          '1e-16383',
          '1e-16384',
          '0e-16384',
          '0.0e200000',
          `0.${'1'.repeat(16383)}`,
          `0.${'1'.repeat(16384)}`,
          `${'9'.repeat(131072)}.5`,
          `${'9'.repeat(131073)}`,
          '-0',
          'NaN',
          'INF',
        ],
      ],
      [{ type: 'date' }, ['0001-01-01', '0000-01-01', '9999-12-31', '2024-02-29', '2023-02-29']],
      [
        { type: 'time' },
        [
          '00:00:00',
          '23:59:59.999999',
          '23:59:60',
          '24:00:00',
          '24:00:00.5',
          '24:00:01',
          '12:60:00',
          '25:00:00',
        ],
      ],
      [
        { type: 'datetime' },
        [
          '2024-02-29T12:00:00Z',
          '2023-02-29T12:00:00Z',
          '0000-01-01T00:00:00Z',
          '0001-01-01T00:00:00+01:00',
          '2024-06-30T23:59:59.5-0230',
          '2024-06-30T12:61:00Z',
        ],
      ],
      [{ type: 'year' }, ['0001', '2024', '9999']],
    ];
    it.each(edges)('accepts what a %j column holds, and only that', async (definition, values) => {
      const field = fieldSchema.parse({ name: 'f', ...definition });
      const compiled = compileField(field);
      const outcomes = [];
      for (const text of values) {
        const cast = compiled.cast(text);
        const stored = cast.ok
          ? await pool.query(`SELECT $1::${columnType(field)} AS v`, [cast.value]).then(
              () => true,
              () => false,
            )
          : await pool.query(`SELECT $1::${columnType(field)} AS v`, [text]).then(
              () => true,
              () => false,
            );
        outcomes.push({ text: text.slice(0, 30), valid: cast.ok, stored });
      }
      expect(outcomes.filter((outcome) => outcome.valid !== outcome.stored)).toEqual([]);
      // Each list holds values on both sides of the edge.
      expect(new Set(outcomes.map((outcome) => outcome.valid)).size).toBe(definition.type === 'year' ? 1 : 2);
    });
  });

  describe('COPY binary', () => {
    // Values as producers write them, for each column type: edges and random ones.
    const rng = (() => {
      let state = 7;
      return () => {
        state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
        return state / 2 ** 31;
      };
    })();
    const int = (max: number) => Math.floor(rng() * max);
    const digits = (n: number) => Array.from({ length: n }, () => int(10)).join('');
    const pad = (n: number, width: number) => String(n).padStart(width, '0');
    const sample = <T>(n: number, make: () => T) => Array.from({ length: n }, make);
    const sign = () => ['', '-', '+'][int(3)]!;
    const zone = () =>
      ['', 'Z', `+${pad(int(15), 2)}:${pad(int(60), 2)}`, `-${pad(int(13), 2)}${pad(int(60), 2)}`][int(4)]!;
    const fraction = () => (rng() < 0.5 ? '' : `.${digits(1 + int(9))}`);
    const clock = () => `${pad(int(24), 2)}:${pad(int(60), 2)}:${pad(int(60), 2)}${fraction()}`;
    const day = () => `${pad(1 + int(9999), 4)}-${pad(1 + int(12), 2)}-${pad(1 + int(28), 2)}`;
    const cases: [Record<string, unknown>, string[]][] = [
      [
        { type: 'string' },
        ['', 'a\tb\nc\\d\re', 'été — 10 €', '😀', 'x'.repeat(300), ...sample(50, () => digits(int(40)))],
      ],
      [
        { type: 'integer' },
        [
          '0',
          '-0',
          '+0042',
          '9223372036854775807',
          '-9223372036854775808',
          '4294967296',
          '-4294967297',
          ...sample(200, () => sign() + digits(1 + int(18))),
        ],
      ],
      [
        { type: 'number' },
        [
          '0',
          '-0',
          '0.000',
          '.5',
          '5.',
          '-.5e-3',
          '1e131071',
          '1e-16383',
          `0.${'1'.repeat(16383)}`,
          `${'9'.repeat(1000)}.5`,
          'NaN',
          'INF',
          '-INF',
          '100000000',
          '0.0001',
          '12345678.87654321',
          ...sample(400, () => {
            const whole = digits(int(12));
            const part = rng() < 0.6 ? digits(int(12)) : undefined;
            const mantissa =
              whole + (part ?? '') === '' ? '0' : part === undefined ? whole : `${whole}.${part}`;
            return sign() + mantissa + (rng() < 0.3 ? `e${['', '-', '+'][int(3)]}${int(40)}` : '');
          }),
        ],
      ],
      [{ type: 'boolean' }, ['true', 'false', '1', '0']],
      [
        { type: 'date' },
        [
          '0001-01-01',
          '9999-12-31',
          '2024-02-29',
          '1999-12-31',
          '2000-01-01',
          '1900-03-01',
          ...sample(200, day),
        ],
      ],
      [{ type: 'date', format: '%d/%m/%Y' }, ['01/02/0099', '29/02/2000', '31/12/1969']],
      [
        { type: 'time' },
        [
          '00:00:00',
          '23:59:59.999999',
          '23:59:60',
          '24:00:00',
          '12:00:00.0000005',
          '12:00:00.0000015',
          ...sample(200, clock),
        ],
      ],
      [
        { type: 'datetime' },
        [
          '0001-01-01T00:00:00+01:00',
          '9999-12-31T23:59:59.999999Z',
          '2024-06-30T23:59:59.5-0230',

          ...sample(200, () => `${day()}T${clock()}${zone()}`),
        ],
      ],
      [{ type: 'year' }, ['0001', '2024', '9999']],
      [
        { type: 'geopoint' },
        [
          '2.35, 48.86',
          '-180, -90',
          ...sample(
            100,
            () => `${(rng() * 360 - 180).toFixed(int(15))}, ${(rng() * 180 - 90).toFixed(int(15))}`,
          ),
        ],
      ],
      [
        { type: 'geojson' },
        [
          '{"type":"Point","coordinates":[2.35,48.86]}',
          '{"type":"LineString","coordinates":[[0,0],[1.5,2]]}',
        ],
      ],
      [{ type: 'object' }, ['{"a":1,"b":[true,null],"c":"é\\t"}', '{}']],
      [{ type: 'array' }, ['[1,"x",{"y":2.5}]', '[]']],
      [{ type: 'duration' }, ['P1Y2M3DT4H5M6.5S']],
      [{ type: 'any' }, ['whatever \\N']],
    ];
    it.each(cases)('stores a %j value as PostgreSQL reads its text', async (definition, texts) => {
      const field = fieldSchema.parse({ name: 'f', ...definition });
      const values = texts.map((text) => {
        const cast = compileField(field).cast(text);
        if (!cast.ok) throw new Error(`${text}: ${cast.message}`);
        return cast.value;
      });
      const schema = tableSchemaSchema.parse({ fields: [field] });
      const table = `binary_${String(definition.type)}${definition.format ? '_custom' : ''}`;
      await load(
        table,
        'replace',
        values.map((value) => [value]),
        schema,
      );
      // A zone-less datetime is UTC (the Table Schema's reading), whatever the session's zone.
      const asRead = (column: string) =>
        field.type === 'geopoint' || field.type === 'geojson'
          ? `ST_AsEWKT(${column})`
          : field.type === 'datetime'
            ? `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`
            : `${column}::text`;
      // A point's value is its EWKB bytes (see pointEwkb): PostGIS reads them as bytea.
      const literal =
        field.type === 'geopoint'
          ? 'ST_GeomFromEWKB($1)'
          : field.type === 'geojson'
            ? 'ST_SetSRID(ST_GeomFromGeoJSON($1), 4326)'
            : field.type === 'datetime'
              ? `(CASE WHEN $1 ~ '(Z|[+-]\\d\\d:?\\d\\d)$' THEN $1 ELSE $1 || 'Z' END)::timestamptz`
              : `$1::${columnType(field)}`;
      const { rows } = await pool.query<{ f: string }>(
        `SELECT ${asRead('f')} AS f FROM "${schemaName}"."${table}" ORDER BY _row_number`,
      );
      const expected: string[] = [];
      for (const value of values)
        expected.push(
          (
            await pool.query<{ f: string }>(`SELECT ${asRead(literal)} AS f`, [
              field.type === 'geopoint' ? Buffer.from(value!, 'latin1') : value,
            ])
          ).rows[0]!.f,
        );
      const differing = rows
        .map((row, i) => ({
          text: texts[i]!.slice(0, 40),
          stored: row.f?.slice(0, 60),
          read: expected[i]?.slice(0, 60),
        }))
        .filter((row, i) => rows[i]!.f !== expected[i]);
      expect(differing).toEqual([]);
      expect(rows).toHaveLength(texts.length);
    });
  });

  describe('schema evolution', () => {
    it('adds a new optional field to the existing table', async () => {
      await load('evolve_t', 'replace', [['1', '10', null]]);
      const wider = tableSchemaSchema.parse({
        ...communes,
        fields: [...communes.fields, { name: 'nom', type: 'string' }],
      });

      await load('evolve_t', 'append', [['2', '20', null, 'Orléans']], wider);

      const { rows } = await pool.query(`SELECT code, nom FROM "${schemaName}".evolve_t ORDER BY code`);
      expect(rows).toEqual([
        { code: '1', nom: null },
        { code: '2', nom: 'Orléans' },
      ]);
    });

    it('refuses an incompatible change and leaves the table as it was', async () => {
      await load('refuse_t', 'replace', [['1', '10', null]]);
      const retyped = tableSchemaSchema.parse({
        fields: [
          { name: 'code', type: 'integer' },
          { name: 'population', type: 'integer' },
          { name: 'centre', type: 'geopoint' },
        ],
      });

      await expect(load('refuse_t', 'replace', [['2', '20', null]], retyped)).rejects.toThrow(
        /changes type from text to bigint/,
      );
      expect(await tableRows('refuse_t')).toEqual([{ code: '1', population: '10', centre: null }]);
    });
  });
});
