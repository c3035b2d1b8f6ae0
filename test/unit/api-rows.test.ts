import { describe, expect, it } from 'vitest';
import { Problem } from '@datacycle/core';
import { encodeCursor, parseRowsRequest } from '../../layers/core/src/services/api/rows';
import type { ExportColumn } from '../../layers/core/src/stages/publish/columns';
import type { Output } from '../../layers/core/src/stages/publish/outputs';
import { testProject } from '../helpers/projects';

const column = (name: string, kind: ExportColumn['kind'], pgType: string, notNull = false): ExportColumn => ({
  name,
  kind,
  pgType,
  notNull,
});
const columns = [
  column('code', 'string', 'text', true),
  column('puissance', 'number', 'numeric'),
  column('mise_en_service', 'date', 'date'),
  column('position', 'geometry', 'geometry(Point,4326)'),
];
const project = testProject([
  { id: 'stations', schema: { fields: [{ name: 'code', type: 'string' }], primaryKey: ['code'] } },
]);
const output: Output = {
  kind: 'dataset',
  name: 'stations',
  relation: { schema: 'raw', name: 'stations' },
  title: 'Stations',
  licence: 'etalab-2.0',
  formats: ['csv'],
  csv: { delimiter: ',', bom: false },
  tableSchema: project.datasets[0]!.tableSchema,
};
const parse = (query: string) => parseRowsRequest(new URLSearchParams(query), output, project, columns, 'r');
const problems = (query: string) => {
  try {
    parse(query);
  } catch (error) {
    expect(error).toBeInstanceOf(Problem);
    return (error as Problem).errors.map((e) => `${e.parameter}: ${e.message}`);
  }
  throw new Error('expected a problem');
};

describe('rows requests', () => {
  it('reads filters, order and paging; the primary key makes the order total', () => {
    const request = parse(
      'puissance__gte=22&mise_en_service__lt=2024-01-01&code__in=a,b&order=-puissance&limit=10',
    );
    expect(request.filters.map((f) => [f.column.name, f.operator, f.values])).toEqual([
      ['puissance', 'gte', ['22']],
      ['mise_en_service', 'lt', ['2024-01-01']],
      ['code', 'in', ['a', 'b']],
    ]);
    // Nulls last (a flag first), then the value descending, then the key.
    expect(request.keys.map((k) => [k.expression, k.descending])).toEqual([
      ['("puissance" IS NULL)', false],
      ['"puissance"', true],
      ['"code"', false],
    ]);
    expect(request.limit).toBe(10);
  });

  it('refuses every bad parameter at once, naming each', () => {
    expect(
      problems(
        'nope=1&puissance__like=2&puissance=abc&position=1&limit=5000&order=position&bbox=1,2,3&format=xml',
      ),
    ).toEqual([
      'nope: nope is not a field of stations',
      'puissance__like: like does not apply to puissance (number); use eq, ne, gt, gte, lt, lte, in',
      'puissance: "abc" is not a number',
      'position: position (geometry) cannot be filtered; use bbox',
      'order: position cannot be sorted on',
      'limit: an integer from 1 to 1000',
      'format: one of json, csv, geojson',
      'bbox: west,south,east,north in degrees (WGS 84): longitudes within ±180, latitudes within ±90',
    ]);
  });

  it('reads a bbox as OGC API - Features does: west > east crosses the antimeridian', () => {
    expect(parse('bbox=170,-20,-170,-10').bbox).toEqual([170, -20, -170, -10]);
    // Latitudes in either order: the band between them.
    expect(parse('bbox=1,50,2,40').bbox).toEqual([1, 40, 2, 50]);
    expect(problems('bbox=1,2,3,0x10')).toHaveLength(1);
    expect(problems('bbox=-181,0,0,0')).toHaveLength(1);
  });

  it('takes the values its OpenAPI document declares, and refuses the others', () => {
    const integers = [column('n', 'integer', 'integer'), column('big', 'integer', 'bigint')];
    const typed = (query: string) =>
      parseRowsRequest(new URLSearchParams(query), output, project, [...columns, ...integers], 'r');
    expect(typed('n=2147483647&big=9007199254740991').filters).toHaveLength(2);
    expect(() => typed('n=2147483648')).toThrow(Problem);
    expect(() => typed('big=9007199254740992')).toThrow(Problem);
    // Strings: any text but NUL; an `in` list has no empty item.
    expect(parse('code=').filters[0]!.values).toEqual(['']);
    expect(problems('code=a%00b')).toEqual(['code: a value cannot hold the NUL character']);
    expect(problems('code__in=a,,b')).toEqual([
      'code__in: an empty value in the list: give values separated by commas',
    ]);
    // Fields once each, whatever the list repeats.
    expect(parse('fields=code,code,puissance').columns.map((c) => c.name)).toEqual(['code', 'puissance']);
  });

  it('takes back only its own cursors, bound to their order', () => {
    const cursor = encodeCursor('-puissance', ['f', '22', 'FR*A01']);
    expect(parse(`order=-puissance&cursor=${cursor}`).cursor).toEqual(['f', '22', 'FR*A01']);
    // Malformed: 400. Well-formed but given by no page of this listing: that page is not found.
    expect(problems('cursor=%27%3B%20DROP%20TABLE%20x')).toEqual([
      'cursor: not a cursor: use the next link as given',
    ]);
    const status = (query: string) => {
      try {
        parse(query);
        return 200;
      } catch (error) {
        return (error as Problem).status;
      }
    };
    expect(status(`order=puissance&cursor=${cursor}`)).toBe(404);
    expect(status(`cursor=${Buffer.from('{"o":"","v":[{"x":1}]}').toString('base64url')}`)).toBe(404);
    expect(status('cursor=')).toBe(400);
  });
});
