import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { TerminalError } from '../errors';
import { chain } from './chain';
import { recordsToTable, type DataTable } from './table';
// stream-json: a streaming JSON tokenizer, so arrays far larger than memory go through.
import { pick } from 'stream-json/filters/pick.js';
import { streamArray } from 'stream-json/streamers/stream-array.js';

type Describe = Omit<DataTable, 'header' | 'batches'>;

function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new TerminalError(
    `${where} is not a JSON object (records must be objects)`,
    'send an array of objects, one per row',
  );
}

async function* arrayItems(stream: Readable): AsyncGenerator<unknown> {
  try {
    for await (const item of stream) yield (item as { value: unknown }).value;
  } catch (error) {
    throw new TerminalError(
      `invalid JSON: ${(error as Error).message}`,
      'check that the file is complete, well-formed JSON',
    );
  }
}

/** A top-level JSON array of objects. */
export function openJsonArray(input: Readable, describe: Describe): Promise<DataTable> {
  const items = arrayItems(chain(input, streamArray.withParserAsStream()));
  return recordsToTable(
    mapRecords(items, (value, index) => asRecord(value, `item ${index + 1}`)),
    describe,
  );
}

/** A GeoJSON FeatureCollection: one row per feature, its properties plus `geometry` (GeoJSON text). */
export function openGeoJson(input: Readable, describe: Describe): Promise<DataTable> {
  const features = arrayItems(
    input.pipe(pick.withParserAsStream({ filter: 'features' })).pipe(streamArray.asStream()),
  );
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
