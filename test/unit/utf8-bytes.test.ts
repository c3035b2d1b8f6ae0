/**
 * UTF-8 CSV cells read as bytes (one character per byte) must validate and load exactly as
 * decoded text does: same verdicts, same errors word for word, same COPY bytes. Checked by
 * running both on the same random files, full of the characters where the two readings part
 * (NBSP and NEL, whose code points are also continuation bytes of "à" and "Å"; "€", emoji,
 * combining accents), against fields of every kind of check.
 */
import { Readable } from 'node:stream';
import { TextDecoder } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FileValidation, openTables, tableSchemaSchema } from '@datacycle/core';
import { utf8ByteString } from '../../layers/core/src/platform/text/utf8-bytes';

/** A small deterministic generator, so that a failure can be replayed. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  return { next, pick };
}

const tricky = ['é', 'à', 'Å', '€', '—', '\u00a0', '\u0085', '😀', 'e\u0301', ' ', '', 'Ω', '中'];

const schema = tableSchemaSchema.parse({
  missingValues: ['', 'néant', 'NA'],
  fields: [
    { name: 'plain', type: 'string', constraints: { unique: true } },
    {
      name: 'access',
      type: 'string',
      constraints: { enum: ['Accès libre', 'Accès réservé', 'Non concerné', 'x'] },
    },
    { name: 'code', type: 'string', constraints: { pattern: '[A-Z]{2}.{0,3}|Non concern[ée]' } },
    { name: 'spaced', type: 'string', constraints: { pattern: '\\S+\\s\\S+' } },
    { name: 'email', type: 'string', format: 'email' },
    { name: 'short', type: 'string', constraints: { minLength: 2, maxLength: 4, required: true } },
    { name: 'on', type: 'boolean', trueValues: ['oui', 'activé'], falseValues: ['non', 'désactivé'] },
    { name: 'flag', type: 'boolean' },
    { name: 'amount', type: 'number', decimalChar: ',', groupChar: '\u00a0' },
    { name: 'price', type: 'number', bareNumber: false },
    { name: 'count', type: 'integer', constraints: { maximum: 100 } },
    { name: 'day', type: 'date', format: '%d/%m/%Y' },
    { name: 'where', type: 'geopoint', format: 'array' },
    { name: 'extra', type: 'object' },
    { name: 'anything', type: 'any' },
  ],
});

type Pool = readonly string[];
const pools: Record<string, Pool> = {
  plain: ['Électra', 'Station — 1', 'a', 'b', 'Réseau', 'x😀', 'néant', 'Gare; quai 2', 'dit "A"'],
  access: ['Accès libre', 'Accès réservé', 'Acces libre', 'Non concerné', 'Non concerne\u0301', 'x'],
  code: ['FR12', 'FRé', 'FR😀€', 'FRàb', 'Non concerné', 'Non concerne', 'FR\u00a0\u0085'],
  spaced: ['a b', 'é à', 'a\u00a0b', 'a\u0085b', 'ab', 'Å Å', 'a  b'],
  email: ['jo@x.fr', 'jérôme@x.fr', 'à@x.fr', 'a\u00a0b@x.fr', 'Å@x.fr', 'no-at'],
  short: ['ab', 'é', 'éé', 'ééééé', '😀😀', 'e\u0301e\u0301', '€€€€', 'NA'],
  on: ['oui', 'non', 'activé', 'désactivé', 'active', 'Oui'],
  flag: ['true', 'false', '1', 'vrai', 'é'],
  amount: ['1\u00a0234,5', '12,5', '1 234,5', '€12', '1\u00a0\u00a02,0'],
  price: ['€ 12', '12 €', '12.5€', 'à12', '12'],
  count: ['42', '101', '4é', '-3', '\u00a07'],
  day: ['14/01/2020', '31/02/2020', '14/01/2020\u00a0', 'é/01/2020'],
  where: ['[2.35,48.85]', '[2.35, 48.85]', '\u00a0[2.35,48.85]', '[2.35é,48.85]', '[200,1]'],
  extra: ['{"a":"é"}', '{"a":"\\u00e9"}', '{"é":1}', '[1]', '{"a":"😀"}'],
  anything: tricky,
};

/** Mostly each pool's first value (valid), so that some rows are valid; else anything. */
function cell(rng: ReturnType<typeof random>, name: string): string {
  const pool = pools[name]!;
  const roll = rng.next();
  if (roll < 0.8) return pool[0]!;
  const value = rng.pick(pool);
  if (roll < 0.85) return rng.pick(tricky) + value;
  if (roll < 0.9) return value + rng.pick(tricky);
  if (roll < 0.92) return rng.pick(tricky);
  return value;
}

function csvFile(seed: number, rows: number): string {
  const rng = random(seed);
  const quote = (text: string) => (/[;"\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
  const lines = [schema.fields.map((field) => field.name).join(';')];
  for (let i = 0; i < rows; i++) {
    const roll = rng.next();
    if (roll < 0.02)
      lines.push(';'.repeat(schema.fields.length - 1)); // blank
    else if (roll < 0.04)
      lines.push(['\u00a0', ' ', '\u0085'].join(';')); // blank once trimmed? short row
    else if (roll < 0.05) lines.push(schema.fields.map(() => rng.pick(['', ' ', '\u00a0'])).join(';'));
    else {
      const cells = schema.fields.map((field) => cell(rng, field.name));
      // The unique field: mostly distinct values, some repeated.
      if (rng.next() < 0.9) cells[0] = `${cells[0]} ${i}`;
      lines.push(cells.map(quote).join(';'));
    }
  }
  return lines.join(rng.next() < 0.5 ? '\n' : '\r\n') + '\n';
}

async function validate(bytes: Buffer, utf8Bytes: boolean) {
  const validation = new FileValidation(schema, 'test');
  // Pieces of random sizes: characters split across chunks.
  const rng = random(bytes.length);
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length;) {
    const size = 1 + Math.floor(rng.next() * 5000);
    pieces.push(bytes.subarray(at, at + size));
    at += size;
  }
  const output: Buffer[] = [];
  const tables = openTables(Readable.from(pieces), { name: 'test.csv', csv: { utf8Bytes } });
  for await (const chunk of validation.copyRows(tables, {
    loadId: '0f8fad5b-d9cb-469f-a165-70867728950e',
    sourceKey: 'clés/été.csv',
  })) {
    output.push(chunk);
  }
  return {
    rows: validation.rows,
    counts: validation.collector.counts,
    errors: validation.collector.kept,
    copy: Buffer.concat(output),
    bytesRead: validation.tables[0]?.dialect,
  };
}

describe('UTF-8 cells read as bytes', () => {
  it.each([1, 2, 3, 4, 5, 6])(
    'validate and encode as the decoded text does (random file %i)',
    async (seed) => {
      const file = Buffer.from((seed % 2 ? '\ufeff' : '') + csvFile(seed, 600), 'utf8');
      const text = await validate(file, false);
      const bytes = await validate(file, true);
      expect(bytes.rows).toEqual(text.rows);
      expect(bytes.counts).toEqual(text.counts);
      expect(bytes.errors).toEqual(text.errors);
      expect(bytes.copy.equals(text.copy)).toBe(true);
      // The files do exercise both sides of each check.
      expect(text.rows.valid).toBeGreaterThan(0);
      expect(text.rows.invalid).toBeGreaterThan(0);
    },
  );

  it('reads bytes that are not UTF-8 as the decoder does (U+FFFD), wherever they fall', async () => {
    const csv = csvFile(7, 300);
    const header = csv.indexOf('\n') + 1;
    for (const at of [header + 10, 2000, csv.length - 20]) {
      const file = Buffer.concat([
        Buffer.from(csv.slice(0, at), 'utf8'),
        Buffer.from([0xff, 0xc3]),
        Buffer.from(csv.slice(at), 'utf8'),
      ]);
      const text = await validate(file, false);
      const bytes = await validate(file, true);
      expect(bytes.errors).toEqual(text.errors);
      expect(bytes.copy.equals(text.copy)).toBe(true);
    }
  });

  it('utf8ByteString: runs of whole lines read as the whole file decodes, bytes not UTF-8 included', () => {
    const rng = random(11);
    for (let round = 0; round < 200; round++) {
      const text = Array.from({ length: 1 + Math.floor(rng.next() * 60) }, () =>
        rng.pick([...tricky, 'a', 'bc', '\n', ';']),
      ).join('');
      let bytes = Buffer.from(text, 'utf8');
      if (round % 3 === 1) {
        // A byte that is not UTF-8, or a character cut short (by a newline, too).
        const at = Math.floor(rng.next() * bytes.length);
        bytes = Buffer.concat([
          bytes.subarray(0, at),
          Buffer.from([rng.pick([0xff, 0xe2, 0x80, 0xf0])]),
          bytes.subarray(at),
        ]);
      }
      // Cut after random newlines, as RecordSplitter cuts runs.
      let read = '';
      let start = 0;
      for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) {
        if (rng.next() < 0.5) continue;
        const run = bytes.subarray(start, at + 1);
        const { text: runText, bytes: same } = utf8ByteString(run);
        if (same !== undefined) expect(Buffer.from(runText, 'latin1').equals(run)).toBe(true);
        read += runText;
        start = at + 1;
      }
      read += utf8ByteString(bytes.subarray(start)).text;
      const expected = Buffer.from(new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes), 'utf8');
      expect(Buffer.from(read, 'latin1')).toEqual(expected);
    }
  });
});
