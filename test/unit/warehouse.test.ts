import { describe, expect, it } from 'vitest';
import {
  CopyBinaryRows,
  CopyWriter,
  createTableSql,
  fieldSchema,
  datasetTableName,
  parseCsvRun,
  quoteIdent,
  tableSchemaSchema,
} from '@datacycle/core';

describe('warehouse', () => {
  describe('quoteIdent', () => {
    it('quotes identifiers and doubles embedded quotes', () => {
      expect(quoteIdent('coordonneesXY')).toBe('"coordonneesXY"');
      expect(quoteIdent('a"; DROP TABLE x; --')).toBe('"a""; DROP TABLE x; --"');
    });

    it('refuses empty, too long or NUL identifiers', () => {
      expect(() => quoteIdent('')).toThrow(/1 to 63/);
      expect(() => quoteIdent('x'.repeat(64))).toThrow(/1 to 63/);
      expect(() => quoteIdent('a\u0000b')).toThrow(/NUL/);
    });
  });

  describe('CopyBinaryRows', () => {
    const lineage = { loadId: '0f8fad5b-d9cb-469f-a165-70867728950e', sourceKey: 'é.csv' };
    const encode = (definition: Record<string, unknown>, value: string | null, utf8Bytes = false) => {
      const rows = new CopyBinaryRows([fieldSchema.parse({ name: 'f', ...definition })], lineage, utf8Bytes);
      const out = new CopyWriter(16);
      rows.write([value], 7, out);
      const row = out.take();
      // Field count (4: the field and 3 lineage columns), then the field; the lineage ends the row.
      expect(row.readUInt16BE(0)).toBe(4);
      const tail = Buffer.concat([
        Buffer.from([0, 0, 0, 16]),
        Buffer.from(lineage.loadId.replaceAll('-', ''), 'hex'),
        Buffer.from([0, 0, 0, 6]),
        Buffer.from('é.csv', 'utf8'),
        Buffer.from([0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 7]),
      ]);
      expect(row.subarray(row.length - tail.length).equals(tail)).toBe(true);
      return row.subarray(2, row.length - tail.length).toString('hex');
    };

    it('writes each value as its length and the bytes PostgreSQL stores, NULL as length -1', () => {
      expect(encode({ type: 'string' }, null)).toBe('ffffffff');
      expect(encode({ type: 'string' }, 'été')).toBe('00000005c3a974c3a9');
      expect(encode({ type: 'string' }, '\xc3\xa9t\xc3\xa9', true)).toBe('00000005c3a974c3a9');
      expect(encode({ type: 'boolean' }, 't')).toBe('0000000101');
      expect(encode({ type: 'integer' }, '-2')).toBe('00000008fffffffffffffffe');
      expect(encode({ type: 'integer' }, '9223372036854775807')).toBe('000000087fffffffffffffff');
      expect(encode({ type: 'year' }, '2024')).toBe('00000004000007e8');
      expect(encode({ type: 'date' }, '2000-01-02')).toBe('0000000400000001');
      expect(encode({ type: 'date' }, '1999-12-31')).toBe('00000004ffffffff');
      expect(encode({ type: 'time' }, '00:00:01.5')).toBe('00000008000000000016e360');
      expect(encode({ type: 'datetime' }, '2000-01-01T01:00:00+01:00')).toBe('000000080000000000000000');
      expect(encode({ type: 'object' }, '{"a":1}')).toBe('00000008017b2261223a317d');
    });

    it('writes numbers as numeric does: base-10000 digits, weight, sign, display scale', () => {
      // 22.50: digits 22 and 5000, weight 0, positive, two decimals shown.
      expect(encode({ type: 'number' }, '22.50')).toBe(
        '0000000c' + '0002' + '0000' + '0000' + '0002' + '0016' + '1388',
      );
      // -12345.6e-2 = -123.456: digits 123 and 4560, scale 3.
      expect(encode({ type: 'number' }, '-12345.6e-2')).toBe(
        '0000000c' + '0002' + '0000' + '4000' + '0003' + '007b' + '11d0',
      );
      // 1e8: one digit 1 of weight 2 (10000²).
      expect(encode({ type: 'number' }, '1e8')).toBe('0000000a' + '0001' + '0002' + '0000' + '0000' + '0001');
      expect(encode({ type: 'number' }, '0.000')).toBe('00000008' + '0000' + '0000' + '0000' + '0003');
      expect(encode({ type: 'number' }, 'NaN')).toBe('00000008' + '0000' + '0000' + 'c000' + '0000');
    });

    it('writes rows longer than the room it reserves, values copied from their source or not', () => {
      const fields = ['a', 'b', 'c', 'd'].map((name) => fieldSchema.parse({ name, type: 'string' }));
      const rows = new CopyBinaryRows(fields, lineage, true, [0, 1, 2, 3]);
      const long = 'x'.repeat(70_000);
      const quoted = `"${'q'.repeat(40)}"`; // a quoted cell: not its bytes in the source
      const text = `${long},${quoted},,${'é'.repeat(3)}\n`;
      const bytes = Buffer.from(text, 'latin1');
      const source = {
        view: new DataView(bytes.buffer, bytes.byteOffset),
        starts: Int32Array.from([0, -1, 70_044, 70_045]),
      };
      const cells = [long, 'q'.repeat(40), '', 'é'.repeat(3)];
      const out = new CopyWriter(16);
      for (let row = 1; row <= 3; row++)
        rows.write([cells[0]!, cells[1]!, null, cells[3]!], row, out, cells, source, 0);
      const written = out.take();
      let at = 0;
      for (let row = 1; row <= 3; row++) {
        expect(written.readUInt16BE(at)).toBe(7);
        at += 2;
        for (const expected of [long, 'q'.repeat(40), null, 'é'.repeat(3)]) {
          const length = written.readInt32BE(at);
          at += 4;
          if (expected === null) expect(length).toBe(-1);
          else {
            expect(written.toString('latin1', at, at + length)).toBe(expected);
            at += length;
          }
        }
        at += 4 + 16 + 4 + Buffer.byteLength(lineage.sourceKey) + 4;
        expect(Number(written.readBigInt64BE(at))).toBe(row);
        at += 8;
      }
      expect(at).toBe(written.length);
    });

    it('copies cells from the bytes of their CSV run as it would write their values, quoted or not', () => {
      const fields = ['a', 'b', 'c'].map((name) => fieldSchema.parse({ name, type: 'string' }));
      const rows = new CopyBinaryRows(fields, lineage, true, [0, 1, 2]);
      const text = Buffer.from(
        'plain,"quoted, with a comma","a ""doubled"" quote"\r\n"",x,"\xc3\xa9t\xc3\xa9"\n',
        'latin1',
      );
      const batch = parseCsvRun({ bytes: text, firstLine: 2, newlines: 2, firstRow: 2, records: 2 }, ',', (bytes) => ({
        text: Buffer.from(bytes).toString('latin1'),
      }));
      const source = {
        view: new DataView(text.buffer, text.byteOffset, text.length),
        starts: batch.source!.starts,
      };
      const fromSource = new CopyWriter(16);
      const fromValues = new CopyWriter(16);
      for (const { rowNumber, cells, firstCell } of batch) {
        rows.write(cells, rowNumber, fromSource, cells, source, firstCell);
        rows.write([...cells], rowNumber, fromValues);
      }
      expect(batch.map((row) => row.cells)).toEqual([
        ['plain', 'quoted, with a comma', 'a "doubled" quote'],
        ['', 'x', '\xc3\xa9t\xc3\xa9'],
      ]);
      // The doubled quote is the one cell not copied from the run.
      expect([...batch.source!.starts.subarray(0, 6)]).toEqual([0, 7, -1, 53, 55, 58]);
      expect(fromSource.take().equals(fromValues.take())).toBe(true);
    });

    it('writes a point as its EWKB bytes', () => {
      const ewkb = '0101000020e6100000000000000000f03f0000000000000040';
      expect(encode({ type: 'geopoint' }, Buffer.from(ewkb, 'hex').toString('latin1'))).toBe(
        '00000019' + ewkb,
      );
    });
  });

  describe('createTableSql', () => {
    it('maps Table Schema types to PostgreSQL and PostGIS, with lineage and primary key', () => {
      const schema = tableSchemaSchema.parse({
        fields: [
          { name: 'code', type: 'string' },
          { name: 'population', type: 'integer' },
          { name: 'position', type: 'geopoint' },
          { name: 'contour', type: 'geojson' },
          { name: 'maj', type: 'datetime' },
        ],
        primaryKey: 'code',
      });

      const sql = createTableSql('raw', datasetTableName('communes-insee'), schema);

      expect(sql).toContain('CREATE TABLE "raw"."communes_insee"');
      expect(sql).toContain('"population" bigint');
      expect(sql).toContain('"position" geometry(Point,4326)');
      expect(sql).toContain('"contour" geometry(Geometry,4326)');
      expect(sql).toContain('"maj" timestamptz');
      expect(sql).toContain('"_load_id" uuid NOT NULL');
      expect(sql).toContain('PRIMARY KEY ("code")');
    });
  });
});
