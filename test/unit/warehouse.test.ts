import { describe, expect, it } from 'vitest';
import {
  copyTextLine,
  createTableSql,
  datasetTableName,
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

  describe('copyTextLine', () => {
    it('escapes the characters of the COPY text format and writes NULL as \\N', () => {
      expect(copyTextLine(['a\tb', 'c\\d', 'e\nf\r', null, 3])).toBe('a\\tb\tc\\\\d\te\\nf\\r\t\\N\t3\n');
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
