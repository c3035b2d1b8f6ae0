import type { Readable } from 'node:stream';
import { TerminalError } from '../errors/errors';
import { JsonItemSplitter, MAX_JSON_DEPTH } from './json-items';
import { recordsToTable, type DataTable } from './table';

type Describe = Omit<DataTable, 'header' | 'batches'>;

function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new TerminalError(
    `${where} is not a JSON object (records must be objects)`,
    'send an array of objects, one per row',
  );
}

/**
 * The items of a JSON array, one at a time, whatever the file's size: the splitter cuts the
 * text into items, JSON.parse reads each one.
 */
async function* arrayItems(input: Readable, key: string | undefined, noun: string): AsyncGenerator<unknown> {
  const splitter = new JsonItemSplitter(key, noun);
  const decoder = new TextDecoder('utf-8'); // drops a byte order mark
  let index = 0;
  function* parsed(texts: string[]) {
    for (const text of texts) {
      index++;
      try {
        yield JSON.parse(text) as unknown;
      } catch (error) {
        throw new TerminalError(
          `${noun} ${index} is not valid JSON: ${(error as Error).message}`,
          'check that the file is complete, well-formed JSON',
        );
      }
    }
  }
  for await (const chunk of input) {
    // Decoded in small pieces, as CSV is: long strings make garbage collection costly.
    for (let at = 0; at < (chunk as Buffer).length; at += PIECE_BYTES) {
      yield* parsed(
        splitter.push(decoder.decode((chunk as Buffer).subarray(at, at + PIECE_BYTES), { stream: true })),
      );
    }
  }
  yield* parsed(splitter.push(decoder.decode()));
  splitter.end();
}

const PIECE_BYTES = 16 * 1024;

/** A top-level JSON array of objects. */
export function openJsonArray(input: Readable, describe: Describe): Promise<DataTable> {
  const items = arrayItems(input, undefined, 'item');
  return recordsToTable(
    mapRecords(items, (value, index) => asRecord(value, `item ${index + 1}`)),
    describe,
  );
}

/** A GeoJSON FeatureCollection: one row per feature, its properties plus `geometry` (GeoJSON text). */
export function openGeoJson(input: Readable, describe: Describe): Promise<DataTable> {
  const features = arrayItems(input, 'features', 'feature');
  return recordsToTable(
    mapRecords(features, (value, index) => {
      const feature = asRecord(value, `feature ${index + 1}`);
      if (feature.type !== 'Feature')
        throw new TerminalError(`feature ${index + 1} has type ${String(feature.type)}, not "Feature"`);
      const properties =
        feature.properties === null || feature.properties === undefined
          ? {}
          : asRecord(feature.properties, `properties of feature ${index + 1}`);
      return { ...properties, geometry: feature.geometry ?? null };
    }),
    describe,
  );
}

/** The longest NDJSON line read (as CSV records): a longer one is refused, not held. */
export const MAX_NDJSON_LINE_CHARS = 16 * 1024 * 1024;

/** Newline-delimited JSON: one object per line; blank lines are skipped. */
export function openNdjson(input: Readable, describe: Describe): Promise<DataTable> {
  async function* records() {
    for await (const [lineNumber, line] of boundedLines(input, MAX_NDJSON_LINE_CHARS)) {
      if (line.trim() === '') continue;
      if (nestedDeeperThan(line, MAX_JSON_DEPTH))
        throw new TerminalError(
          `line ${lineNumber} is nested more than ${MAX_JSON_DEPTH} levels deep`,
          'a row of a table is an object of values; flatten the nested structure before sending it',
        );
      try {
        yield asRecord(JSON.parse(line), `line ${lineNumber}`);
      } catch (error) {
        if (error instanceof TerminalError) throw error;
        throw new TerminalError(`line ${lineNumber} is not valid JSON: ${(error as Error).message}`);
      }
    }
  }
  return recordsToTable(records(), describe);
}

/** The lines of a UTF-8 stream, numbered from 1; a line longer than `maxChars` is refused before it is whole. */
async function* boundedLines(input: Readable, maxChars: number): AsyncGenerator<[number, string]> {
  const decoder = new TextDecoder('utf-8');
  // The line in progress, as the pieces that hold it: each chunk is searched once.
  let pieces: string[] = [];
  let pieceChars = 0;
  let lineNumber = 0;
  const tooLong = () =>
    new TerminalError(
      `line ${lineNumber + 1} is longer than ${maxChars.toLocaleString('en')} characters`,
      'one line holds one row: check that the file is newline-delimited JSON, not one JSON document',
    );
  const take = (text: string): string[] => {
    const lines: string[] = [];
    let from = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', from)) {
      if (pieceChars + newline - from > maxChars) throw tooLong();
      lines.push((pieces.join('') + text.slice(from, newline)).replace(/\r$/, ''));
      pieces = [];
      pieceChars = 0;
      from = newline + 1;
    }
    pieces.push(text.slice(from));
    pieceChars += text.length - from;
    if (pieceChars > maxChars) throw tooLong();
    return lines;
  };
  for await (const chunk of input)
    for (const line of take(decoder.decode(chunk as Buffer, { stream: true }))) yield [++lineNumber, line];
  for (const line of take(decoder.decode())) yield [++lineNumber, line];
  const last = pieces.join('');
  if (last !== '') yield [++lineNumber, last.replace(/\r$/, '')];
}

/** Whether a JSON text nests deeper than `max` (brackets outside strings); a linear scan. */
function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (inString) {
      if (code === 92)
        at++; // a backslash escapes the next character
      else if (code === 34) inString = false;
    } else if (code === 34) inString = true;
    else if (code === 91 || code === 123) {
      if (++depth > max) return true;
    } else if (code === 93 || code === 125) depth--;
  }
  return false;
}

async function* mapRecords<T>(
  items: AsyncIterable<T>,
  map: (item: T, index: number) => Record<string, unknown>,
) {
  let index = 0;
  for await (const item of items) yield map(item, index++);
}
