/**
 * DirectRows loads rows straight from a CSV run's bytes, and must only ever vouch for a row
 * the general path (parseCsvRun, RowValidator, CopyBinaryRows) loads with the same bytes:
 * every run below is loaded both ways and compared byte for byte, with the same errors,
 * while most of its valid rows are written by DirectRows itself.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BatchValidation,
  CopyWriter,
  DirectRows,
  RecordSplitter,
  checkHeader,
  parseCsvRun,
  runTextReader,
  tableSchemaSchema,
  type CsvRun,
  type RowError,
  type TableSchema,
  type TableSetup,
} from '@datacycle/core';
import { generateIrveCsv } from '../../bench/irve-generator';

const root = path.resolve(import.meta.dirname, '../..');
const lineage = { loadId: '6f1c2a3b-0000-4000-8000-000000000001', sourceKey: 'drop/stations.csv' };

const schema = tableSchemaSchema.parse({
  fields: [
    { name: 'name', type: 'string', constraints: { required: true } },
    { name: 'note', type: 'string' },
    { name: 'access', type: 'string', constraints: { enum: ['Accès libre', 'Réservé'] } },
    { name: 'free', type: 'boolean', constraints: { required: true } },
    { name: 'open', type: 'boolean', trueValues: ['oui'], falseValues: ['non', 'oui'] },
    { name: 'since', type: 'date' },
    { name: 'where', type: 'geopoint', format: 'array' },
    { name: 'points', type: 'integer', constraints: { minimum: 0 } },
    { name: 'code', type: 'string', constraints: { pattern: '[A-Z]{2}\\d+|Non concerné' } },
  ],
});
const header = 'name,note,access,free,open,since,where,points,code';

/** Loads `csv` (header first) the general way and with DirectRows; returns both, and what DirectRows wrote itself. */
async function loadBothWays(csv: string, tableSchema: TableSchema = schema) {
  const bytes = Buffer.from(csv, 'utf8');
  const headerEnd = bytes.indexOf(10);
  const labels = bytes.subarray(0, headerEnd).toString('utf8').split(',');
  const setup: TableSetup = {
    schema: tableSchema,
    columnOfField: checkHeader(labels, tableSchema).columnOfField,
    columnCount: labels.length,
    utf8Bytes: true,
    lineage,
  };
  // Small runs, as the splitter cuts them: several rows each, the last one without newline or not.
  const splitter = new RecordSplitter(',', 1 << 20, 64);
  const runs: CsvRun[] = [];
  const rest = bytes.subarray(headerEnd + 1);
  for (let at = 0; at < rest.length; at += 50) {
    const run = splitter.push(Buffer.from(rest.subarray(at, at + 50)));
    if (run) runs.push(run);
  }
  const last = splitter.end();
  if (last) runs.push(last);
  const first = runs[0]!;
  for (const run of runs) Object.assign(run, { firstRow: run.firstRow + 1, firstLine: run.firstLine + 1 });
  expect(first.firstRow).toBe(2);
  const read = await runTextReader('utf8-bytes');

  const generalValidation = new BatchValidation(setup, true);
  const general = { out: new CopyWriter(), errors: [] as RowError[], valid: 0 };
  for (const run of runs) {
    const batch = parseCsvRun(run, ',', read, true);
    general.valid += generalValidation.validate(batch, (e) => general.errors.push(e), general.out).valid;
  }

  const directValidation = new BatchValidation(setup, true);
  const direct = DirectRows.of(setup, ',', false)!;
  const both = {
    out: new CopyWriter(),
    errors: [] as RowError[],
    valid: 0,
    written: 0,
    declined: [] as number[],
  };
  for (const run of runs) {
    const { text } = read(run.bytes);
    both.written += direct.load(run, text, both.out, (row) => {
      both.declined.push(row.firstRow);
      const batch = parseCsvRun(row, ',', read, true);
      both.valid += directValidation.validate(batch, (e) => both.errors.push(e), both.out).valid;
    });
  }
  both.valid += both.written;
  // Checked only (validation alone): the same rows vouched for, the same errors.
  const checkedValidation = new BatchValidation({ ...setup, lineage: undefined }, true);
  const checked = { errors: [] as RowError[], written: 0 };
  const checker = DirectRows.of({ ...setup, lineage: undefined }, ',', false)!;
  for (const run of runs) {
    checked.written += checker.load(run, read(run.bytes).text, undefined, (row) => {
      checkedValidation.validate(parseCsvRun(row, ',', read, false), (e) => checked.errors.push(e));
    });
  }
  expect(checked.written).toBe(both.written);
  expect(checked.errors).toEqual(general.errors);
  expect(both.out.take().equals(general.out.take())).toBe(true);
  expect(both.errors).toEqual(general.errors);
  expect(both.valid).toBe(general.valid);
  return { general, direct: both };
}

const valid = [
  'Borne A,,Accès libre,true,oui,2024-02-29,"[2.35,48.85]",4,FR12',
  'Borne B,une note,Réservé,FALSE,non,,"[ -1.5 , 47.2 ]",0,AB1',
  '"Borne, C","note ""citée""",,1,,1999-12-31,"[0,0]",12,ZZ9',
];

describe('DirectRows', () => {
  it('writes usual rows itself, with the bytes the general path writes', async () => {
    // A pattern's cell that is not ASCII is read decoded, as RowValidator reads it.
    const notConcerned = valid[0]!.replace('FR12', 'Non concerné');
    const { direct } = await loadBothWays(
      [header, ...valid, valid[0], valid[1], notConcerned].join('\n') + '\n',
    );
    // The row with a doubled quote goes the general way; the others are DirectRows'.
    expect(direct.declined).toEqual([4]);
    expect(direct.written).toBe(5);
  });

  it('leaves every row it cannot vouch for to the general path, which names its problems', async () => {
    const rows = [
      valid[0],
      'Borne D,,Accès libre,yes,oui,2024-01-01,"[1,2]",1,FR1', // not a boolean
      'Borne E,,Accès libre,true,non,2023-02-29,"[1,2]",1,FR1', // not a date
      'Borne F,,Accès Libre,true,non,2023-02-28,"[1,2]",1,FR1', // not an allowed value
      ',,,true,,,"[1,2]",1,FR1', // empty required field (and an empty first cell)
      'Borne G,,,true,,,"[1,2]",-1,FR1', // below the minimum
      'Borne H,,,true,,,"[1,2]",1,fr1', // not the pattern
      'Borne H2,,,true,,,"[1,2]",1,Non concernée', // not the pattern either
      'Borne I,,,true,,,"[200,2]",1,FR1', // not a geopoint
      'Borne J,,,true,,,"[1,2]",1,FR1,extra', // a cell too many
      'Borne K,,,true,,,"[1,2]",1', // a cell missing
      '', // a blank line
      ' ,,,,,,,,', // a blank row
      '"Borne\nL",,,true,,,"[1,2]",1,FR1', // a line break inside quotes
      'Borne M,"x" ,,true,,,"[1,2]",1,FR1', // a space after a closing quote
      valid[1],
    ];
    const { direct, general } = await loadBothWays([header, ...rows].join('\n') + '\n');
    expect(direct.written).toBe(2);
    expect(general.valid).toBe(4); // with Borne L (its line break is data) and M
    expect(new Set(general.errors.map((e) => e.type))).toEqual(
      new Set(['type-error', 'constraint-error', 'extra-cell', 'missing-cell', 'blank-row']),
    );
  });

  it('checks emails, integers and points on their bytes as their readers do', async () => {
    const checked = tableSchemaSchema.parse({
      fields: [
        { name: 'name', type: 'string' },
        { name: 'where', type: 'geopoint', format: 'array' },
        { name: 'points', type: 'integer', constraints: { minimum: 0, maximum: '999999999999999' } },
        { name: 'mail', type: 'string', format: 'email' },
        { name: 'power', type: 'number', constraints: { minimum: 0 } },
      ],
    });
    const row = (where: string, points: string, mail: string, power = '22') =>
      `Borne,"${where}",${points},${mail},${power}`;
    const vouched = [
      row('[1,2]', '+5', 'a@b.c'),
      row(' [ 1.25 , -2.5 ] ', '-0', 'a.b@c.d.e'),
      row('[-180,90]', '007', 'a@b..c'),
      row('[0.123456789012345,1]', '999999999999999', ''),
      row('[0.1234567890123456,1]', '1', 'a@b.c'), // 16 digits: read by Number(), as the reader does
      row('[1,2]', '1', 'a@b.c', '3.70'),
      row('[1,2]', '1', 'a@b.c', '-0.0'),
      row('[1,2]', '1', 'a@b.c', '1.'),
      row('[1,2]', '1', 'a@b.c', '+0000.5'),
      row('[1,2]', '1', 'a@b.c', ''),
    ];
    const declined = [
      row('[1.5e1,2]', '1', 'a@b.c'), // an exponent: read as JSON
      row('[1.,2]', '1', 'a@b.c'),
      row('[180.5,2]', '1', 'a@b.c'),
      row('1,2', '1', 'a@b.c'),
      row('[1,2] x', '1', 'a@b.c'),
      row('[1,2]', '1000000000000000', 'a@b.c'), // above the maximum (16 digits)
      row('[1,2]', '-1', 'a@b.c'), // below the minimum
      row('[1,2]', '1.0', 'a@b.c'),
      row('[1,2]', '+', 'a@b.c'),
      row('[1,2]', '1', 'a@b'),
      row('[1,2]', '1', 'a@.b'),
      row('[1,2]', '1', 'a@b.'),
      row('[1,2]', '1', '@b.c'),
      row('[1,2]', '1', 'a@b@c.d'),
      row('[1,2]', '1', 'a b@c.d'),
      row('[1,2]', '1', 'é@b.c'), // not ASCII: the reader decides
      row('[1,2]', '1', 'a@b.c', '1e3'), // an exponent: the reader's other spellings
      row('[1,2]', '1', 'a@b.c', '.5'),
      row('[1,2]', '1', 'a@b.c', '-1'), // below the minimum
      row('[1,2]', '1', 'a@b.c', '1.2.3'),
    ];
    const csv = ['name,where,points,mail,power', ...vouched, ...declined].join('\n') + '\n';
    const { direct, general } = await loadBothWays(csv, checked);
    expect(direct.declined).toEqual(declined.map((_, index) => vouched.length + 2 + index));
    expect(general.valid).toBe(vouched.length + 4); // exponents, é@b.c, .5
    expect(direct.written).toBe(vouched.length);
  });

  it('reads CRLF line ends, a last record without one, and a carriage return at the end of a quoted cell', async () => {
    const crlf = [header, ...valid].join('\r\n') + '\r\n';
    expect((await loadBothWays(crlf)).direct.written).toBe(2);
    const unended = [header, ...valid].join('\n');
    expect((await loadBothWays(unended)).direct.written).toBe(2);
    const quotedLast = header + '\n' + valid[0]!.replace(/FR12$/, '"FR12\r"') + '\r\n' + valid[1];
    const { direct } = await loadBothWays(quotedLast);
    expect(direct.written).toBe(2);
  });

  it('loads IRVE rows, valid and not, as the general path does', async () => {
    const irve = tableSchemaSchema.parse(
      JSON.parse(readFileSync(path.join(root, 'examples/territoires/schemas/irve-statique.json'), 'utf8')),
    );
    const dir = await mkdtemp(path.join(tmpdir(), 'direct-rows-'));
    await generateIrveCsv(path.join(dir, 'irve.csv'), 3000, 0.05);
    const file = await readFile(path.join(dir, 'irve.csv'), 'utf8');
    await rm(dir, { recursive: true });
    const { direct, general } = await loadBothWays(file, irve);
    expect(general.errors.length).toBeGreaterThan(100);
    expect(direct.written).toBeGreaterThan(general.valid * 0.95);
  });

  it('is not used where rows depend on each other, or cells are not UTF-8 bytes', () => {
    const setup = (changes: Partial<TableSetup>): TableSetup => ({
      schema,
      columnOfField: checkHeader(header.split(','), schema).columnOfField,
      columnCount: 9,
      utf8Bytes: true,
      lineage,
      ...changes,
    });
    expect(DirectRows.of(setup({}), ',', false)).toBeDefined();
    expect(DirectRows.of(setup({}), ',', true)).toBeUndefined(); // unique values: claims
    expect(DirectRows.of(setup({ utf8Bytes: false }), ',', false)).toBeUndefined();
    // Validation alone (no lineage) uses it too: the rows it writes are thrown away.
    expect(DirectRows.of(setup({ lineage: undefined }), ',', false)).toBeDefined();
    expect(
      DirectRows.of(setup({ schema: { ...schema, missingValues: ['', 'NA'] } }), ',', false),
    ).toBeUndefined();
  });
});
