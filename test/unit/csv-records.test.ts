import { Readable } from 'node:stream';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { MalformedQuote, eachRow, openCsv, parseCsvRecords } from '@datacycle/core';

/** What papaparse makes of the same run, read the way openCsv reads it. */
const papaparse = (text: string, delimiter: string) =>
  Papa.parse<string[]>(text, { delimiter, newline: '\n', skipEmptyLines: false }).data;

/** A deterministic pseudo-random generator, so a failure replays. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x80000000;
  };
}

describe('parseCsvRecords', () => {
  it.each([',', ';', '\t', '|'])('reads what papaparse reads (delimiter %j, random files)', (delimiter) => {
    const next = random(delimiter.charCodeAt(0));
    const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
    const pieces = ['a', 'é', '€', ' ', '"', '\n', '\r\n', ',', ';', '\t', '|', 'x'.repeat(20), ''];
    const cell = () => Array.from({ length: Math.floor(next() * 4) }, () => pick(pieces)).join('');
    const quote = (text: string) =>
      /["\r\n,;\t|]/.test(text) || next() < 0.1 ? `"${text.replace(/"/g, '""')}"` : text;
    for (let file = 0; file < 200; file++) {
      const lines: string[] = [];
      for (let line = 0; line < 1 + Math.floor(next() * 8); line++) {
        // Ragged rows and blank lines, as producers write them.
        const cells = Array.from({ length: Math.floor(next() * 5) }, () => quote(cell()));
        lines.push(cells.join(delimiter) + pick(['\n', '\r\n']));
      }
      const text = lines.join('') + (next() < 0.5 ? '' : quote(cell()));
      expect(parseCsvRecords(text, delimiter), JSON.stringify(text)).toEqual(papaparse(text, delimiter));
    }
  });

  it('reads the cases papaparse settles: trailing delimiter, quote inside a bare cell, spaces after a closing quote', () => {
    for (const text of [
      'a,\n',
      'a,',
      '"a",',
      '"a"\n',
      '"a"',
      'x"y,z\n',
      ' "a" ,b\n',
      '"a"  ,"b"\r\n',
      '\n\n',
      '',
      '"say ""hi""",""\n',
      '"",""',
    ]) {
      expect(parseCsvRecords(text, ','), JSON.stringify(text)).toEqual(papaparse(text, ','));
    }
  });

  it('refuses text after a closing quote and a quote never closed, with their position', () => {
    expect(() => parseCsvRecords('a,b\n"x"y,z\n', ',')).toThrow(MalformedQuote);
    try {
      parseCsvRecords('a,b\n"x"y,z\n', ',');
    } catch (error) {
      expect(error).toMatchObject({ position: 7, message: 'text after a closing quote' });
    }
    expect(() => parseCsvRecords('a,"never', ',')).toThrow('a quoted cell is never closed');
  });

  it('names the line of a malformed quote in a file', async () => {
    const file = 'id,texte\n1,"ok"\n2,"deux\nlignes"\n3,"mal"formé\n4,x\n';
    const read = async () => {
      const table = await openCsv(Readable.from([Buffer.from(file)]));
      for await (const row of eachRow(table)) void row;
    };
    await expect(read()).rejects.toThrow('the CSV cannot be read at line 5: text after a closing quote');
  });
});
