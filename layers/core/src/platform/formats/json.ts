import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { TerminalError } from '../errors/errors';
import { JsonItemSplitter } from './json-items';
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

/** Newline-delimited JSON: one object per line; blank lines are skipped. */
export function openNdjson(input: Readable, describe: Describe): Promise<DataTable> {
  async function* lines() {
    let lineNumber = 0;
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      lineNumber++;
      if (line.trim() === '') continue;
      try {
        yield asRecord(JSON.parse(line), `line ${lineNumber}`);
      } catch (error) {
        if (error instanceof TerminalError) throw error;
        throw new TerminalError(`line ${lineNumber} is not valid JSON: ${(error as Error).message}`);
      }
    }
  }
  return recordsToTable(lines(), describe);
}

async function* mapRecords<T>(
  items: AsyncIterable<T>,
  map: (item: T, index: number) => Record<string, unknown>,
) {
  let index = 0;
  for await (const item of items) yield map(item, index++);
}
