import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RowValidator, checkHeader, compileField, fieldSchema, tableSchemaSchema } from '@datacycle/core';

const root = path.resolve(import.meta.dirname, '../..');
const irve = tableSchemaSchema.parse(
  JSON.parse(readFileSync(path.join(root, 'examples/territoires/schemas/irve-statique.json'), 'utf8')),
);
const field = (definition: Record<string, unknown>) =>
  compileField(fieldSchema.parse({ name: 'f', ...definition }));

describe('table-schema', () => {
  describe('tableSchemaSchema', () => {
    it('refuses duplicate field names and a primary key that is not a field', () => {
      const result = tableSchemaSchema.safeParse({
        fields: [{ name: 'id' }, { name: 'id' }],
        primaryKey: 'code',
      });
      expect(result.success).toBe(false);
      const messages = result.error?.issues.map((i) => i.message) ?? [];
      expect(messages).toContain('duplicate field name "id"');
      expect(messages).toContain('primary key field "code" is not a field');
    });
  });

  it('refuses an unknown field type, naming the field', () => {
    const result = tableSchemaSchema.safeParse({ fields: [{ name: 'id', type: 'text' }] });
    expect(result.error?.issues[0]?.path).toEqual(['fields', 0, 'type']);
  });

  describe('checkHeader', () => {
    const names = irve.fields.map((f) => f.name);

    it('accepts the schema columns in any order', () => {
      const check = checkHeader([...names].reverse(), irve);
      expect(check.valid).toBe(true);
      expect(check.columnOfField.get('nom_amenageur')).toBe(names.length - 1);
    });

    it('names missing, unexpected, duplicate and blank columns', () => {
      const header = names.filter((n) => n !== 'nbre_pdc' && n !== 'date_maj');
      header.push('commentaire', 'nom_station', '');

      const check = checkHeader(header, irve);

      expect(check.valid).toBe(false);
      const summary = check.errors.map((e) => `${e.type}:${e.label}`);
      expect(summary).toEqual(
        expect.arrayContaining([
          'missing-label:nbre_pdc',
          'missing-label:date_maj',
          'extra-label:commentaire',
          'duplicate-label:nom_station',
          'blank-label:',
        ]),
      );
    });
  });

  describe('compileField', () => {
    it('anchors patterns as the spec says: the whole value must match', () => {
      const siren = field({ constraints: { pattern: '\\d{9}' } });
      expect(siren.cast('130025265').ok).toBe(true);
      expect(siren.cast('1300252651').ok).toBe(false);
      expect(siren.cast('x130025265').ok).toBe(false);
    });

    it('casts booleans with custom true and false values', () => {
      const flag = field({ type: 'boolean', trueValues: ['oui'], falseValues: ['non'] });
      expect(flag.cast('oui')).toEqual({ ok: true, value: 't' });
      expect(flag.cast('non')).toEqual({ ok: true, value: 'f' });
      expect(flag.cast('true')).toMatchObject({ ok: false, type: 'type-error' });
    });

    it('reads numbers with a decimal comma and group character', () => {
      const amount = field({ type: 'number', decimalChar: ',', groupChar: ' ' });
      expect(amount.cast('1 234,5')).toEqual({ ok: true, value: '1234.5' });
      expect(amount.cast('12abc')).toMatchObject({ ok: false, type: 'type-error' });
    });

    it('checks integers, minimum and maximum', () => {
      const count = field({ type: 'integer', constraints: { minimum: 0, maximum: 100 } });
      expect(count.cast('42')).toEqual({ ok: true, value: '42' });
      expect(count.cast('4.2')).toMatchObject({ ok: false, type: 'type-error' });
      expect(count.cast('-1')).toMatchObject({ ok: false, type: 'constraint-error' });
      expect(count.cast('101')).toMatchObject({ ok: false, type: 'constraint-error' });
    });

    it('refuses impossible dates and reads strptime formats', () => {
      const iso = field({ type: 'date' });
      expect(iso.cast('2024-02-29').ok).toBe(true);
      expect(iso.cast('2023-02-29').ok).toBe(false);
      const french = field({ type: 'date', format: '%d/%m/%Y' });
      expect(french.cast('14/01/2020')).toEqual({ ok: true, value: '2020-01-14' });
      expect(french.cast('31/02/2020').ok).toBe(false);
    });

    it('turns geopoints of the three formats into WGS 84 points (EWKB bytes)', () => {
      // Byte order, type Point with an SRID, SRID 4326, then longitude and latitude.
      const point = (value: string | null | undefined) => {
        const bytes = Buffer.from(value ?? '', 'latin1');
        return {
          header: bytes.subarray(0, 9).toString('hex'),
          lon: bytes.readDoubleLE(9),
          lat: bytes.readDoubleLE(17),
          length: bytes.length,
        };
      };
      const header = '0101000020e6100000';
      const cast = (schema: Parameters<typeof field>[0], text: string) => {
        const result = field(schema).cast(text);
        return result.ok ? point(result.value) : result;
      };
      expect(cast({ type: 'geopoint' }, '2.35, 48.85')).toEqual({
        header,
        lon: 2.35,
        lat: 48.85,
        length: 25,
      });
      expect(cast({ type: 'geopoint', format: 'array' }, '[7.487105,48.345345]')).toEqual({
        header,
        lon: 7.487105,
        lat: 48.345345,
        length: 25,
      });
      expect(cast({ type: 'geopoint', format: 'object' }, '{"lon": -1, "lat": 2}')).toEqual({
        header,
        lon: -1,
        lat: 2,
        length: 25,
      });
      expect(field({ type: 'geopoint', format: 'array' }).cast('[48.3, 200]')).toMatchObject({ ok: false });
    });

    it('reads each coordinate as the very double Number() reads from its text', () => {
      // Digits read by hand up to 15, Number() beyond: both must give the same bits.
      const reader = field({ type: 'geopoint', format: 'array' });
      let seed = 7;
      const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
      const spellings = ['-0', '+0.5', '0.1', '179.999999999999', '-89.0000000000001', '12.3456789012345678'];
      for (let i = 0; i < 5000; i++) {
        const decimals = Math.floor(random() * 16);
        const lon = (random() * 360 - 180).toFixed(decimals);
        spellings.push(random() < 0.5 ? lon : `+${lon.replace('-', '')}`);
      }
      for (const lon of spellings) {
        const lat = (Number(lon) / 2).toFixed(9);
        const result = reader.cast(`[${lon}, ${lat}]`);
        expect(result.ok, lon).toBe(true);
        const bytes = Buffer.from(result.ok ? (result.value ?? '') : '', 'latin1');
        expect(Object.is(bytes.readDoubleLE(9), Number(lon)), lon).toBe(true);
        expect(bytes.readDoubleLE(17), lat).toBe(Number(lat));
      }
    });

    it('checks enums, email and lengths', () => {
      expect(field({ constraints: { enum: ['Direct', 'Indirect'] } }).cast('direct')).toMatchObject({
        ok: false,
        type: 'constraint-error',
      });
      expect(field({ format: 'email' }).cast('contact@example.org').ok).toBe(true);
      expect(field({ format: 'email' }).cast('contact-at-example.org').ok).toBe(false);
      expect(field({ constraints: { maxLength: 3 } }).cast('abcd').ok).toBe(false);
    });
  });

  describe('RowValidator', () => {
    const header = irve.fields.map((f) => f.name);
    const csv = readFileSync(path.join(root, 'examples/territoires/data/irve-statique-exemple.csv'), 'utf8');

    it('accepts both rows of the official example, including the foreign-pattern one', async () => {
      const { parse } = await import('csv-parse/sync');
      const [head, ...rows] = parse(csv) as string[][];
      const check = checkHeader(head!, irve);
      const validator = new RowValidator(irve, check.columnOfField, head!.length);

      const results = rows.map((cells, i) => validator.validate(cells, i + 2));

      expect(results.map((r) => r.ok)).toEqual([true, true]);
    });

    it('locates each error: row, field, cell and type', () => {
      const validator = new RowValidator(irve, checkHeader(header, irve).columnOfField, header.length);
      const cells = header.map(() => '');
      cells[header.indexOf('nbre_pdc')] = 'dix';

      const result = validator.validate(
        cells.map((c, i) => (i === 0 ? 'x' : c)),
        7,
      );

      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.errors).toContainEqual(
        expect.objectContaining({ type: 'type-error', rowNumber: 7, fieldName: 'nbre_pdc', cell: 'dix' }),
      );
      expect(result.errors).toContainEqual(
        expect.objectContaining({ type: 'constraint-error', rowNumber: 7, fieldName: 'contact_operateur' }),
      );
    });

    it('reports blank rows and rows with too few or too many cells', () => {
      const validator = new RowValidator(irve, checkHeader(header, irve).columnOfField, header.length);
      expect(validator.validate(['', ' '], 3)).toMatchObject({
        ok: false,
        errors: [{ type: 'blank-row', rowNumber: 3 }],
      });
      const short = validator.validate(['a', 'b'], 4);
      expect(short).toMatchObject({ ok: false });
      expect(!short.ok && short.errors.filter((e) => e.type === 'missing-cell')).toHaveLength(
        header.length - 2,
      );
      const long = validator.validate([...header.map(() => 'x'), 'extra'], 5);
      expect(!long.ok && long.errors.find((e) => e.type === 'extra-cell')).toMatchObject({
        rowNumber: 5,
        cell: 'extra',
      });
    });
  });

  describe('RowValidator reading of each field', () => {
    const schema = tableSchemaSchema.parse({
      fields: [
        { name: 'a', type: 'integer', constraints: { required: true } },
        { name: 'b', type: 'string', constraints: { enum: ['x', 'y'] } },
        { name: 'c', type: 'number' },
      ],
      missingValues: ['', 'NA'],
    });
    // Columns in another order than the fields: values come out in the schema's order.
    const header = ['c', 'a', 'b'];
    const validator = new RowValidator(schema, checkHeader(header, schema).columnOfField, 3);
    const problems = (cells: string[]) => {
      const result = validator.validate(cells, 9);
      return result.ok ? result.values : result.errors.map((e) => [e.type, e.fieldName]);
    };

    it('reads valid rows, missing values as null, in schema order', () => {
      expect(problems(['1.5', '3', 'x'])).toEqual(['3', 'x', '1.5']);
      expect(problems(['NA', '4', 'NA'])).toEqual(['4', null, null]);
      expect(problems(['', '+4', ''])).toEqual(['4', null, null]);
    });

    it('names every problem of a row that has one', () => {
      expect(problems(['', 'NA', 'x'])).toEqual([['constraint-error', 'a']]);
      expect(problems(['z', '5', 'z'])).toEqual([
        ['constraint-error', 'b'],
        ['type-error', 'c'],
      ]);
      expect(problems(['2', '5'])).toEqual([['missing-cell', 'b']]);
    });

    it('reports, on every row, a field the header does not have', () => {
      const partial = new RowValidator(schema, checkHeader(['a', 'c'], schema).columnOfField, 2);
      const result = partial.validate(['1', '2'], 3);
      expect(!result.ok && result.errors.map((e) => [e.type, e.fieldName])).toEqual([['missing-cell', 'b']]);
    });
  });

  describe('RowValidator uniqueness', () => {
    const schema = tableSchemaSchema.parse({
      fields: [
        { name: 'code', type: 'string' },
        { name: 'annee', type: 'integer' },
        { name: 'siren', type: 'string', constraints: { unique: true } },
      ],
      primaryKey: ['code', 'annee'],
    });
    const header = ['code', 'annee', 'siren'];

    it('reports a repeated unique value and a repeated primary key, naming the first row', () => {
      const validator = new RowValidator(schema, checkHeader(header, schema).columnOfField, 3);

      expect(validator.validate(['45', '2024', '111'], 2).ok).toBe(true);
      expect(validator.validate(['45', '2025', '222'], 3).ok).toBe(true);
      const repeated = validator.validate(['45', '2024', '111'], 4);

      expect(repeated.ok).toBe(false);
      expect(!repeated.ok && repeated.errors.map((e) => [e.type, e.message])).toEqual([
        ['unique-error', '"111" in "siren" is not unique: row 2 has it too'],
        ['primary-key', 'row 4 repeats the primary key (code, annee) = (45, 2024) of row 2'],
      ]);
    });

    it('refuses an empty primary key', () => {
      const validator = new RowValidator(schema, checkHeader(header, schema).columnOfField, 3);
      const result = validator.validate(['45', '', '333'], 2);
      expect(!result.ok && result.errors.map((e) => e.type)).toEqual(['primary-key']);
    });
  });
});
