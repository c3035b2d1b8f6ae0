import type { Writable } from 'node:stream';
import type pg from 'pg';
import { copiedColumn, zoned, type ExportColumn } from './columns';
import { copyRows, readCell, type CellBatch } from './copy-rows';
import { ByteOutput, Markup } from './byte-output';
import { dayText } from './formats';

/**
 * RFC 7946 FeatureCollection: the first geometry column is the geometry, the rest properties.
 * PostgreSQL sends the rows in binary COPY, each geometry as GeoJSON (ST_AsGeoJSON), numbers
 * as it writes them; the Features are written here from the cells' bytes, never decoded into
 * strings: text is copied, escaped where JSON requires it. (Formatting 1M IRVE rows with
 * strings and JSON.stringify took three times as long; `row_to_json` in PostgreSQL, ten.)
 */
export async function writeGeoJson(
  client: pg.PoolClient,
  relation: string,
  columns: ExportColumn[],
  out: Writable,
): Promise<void> {
  const geometry = columns.find((column) => column.kind === 'geometry')!;
  const properties = columns.filter((column) => column !== geometry);
  const as = { geometry: 'geojson', numbers: 'text' } as const;
  const copied = [copiedColumn(geometry, as), ...properties.map((column) => copiedColumn(column, as))];
  const members = properties.map((column, index) =>
    property(column, `${index === 0 ? '' : ','}${JSON.stringify(column.name)}:`),
  );
  const bytes = new ByteOutput();
  let first = true;
  bytes.ascii('{"type":"FeatureCollection","features":[\n');
  for await (const batch of copyRows(client, relation, copied)) {
    const { starts, lengths, columns: width } = batch;
    for (let row = 0; row < batch.rows; row++) {
      const at = row * width;
      bytes.markup(first ? FEATURE : NEXT_FEATURE);
      first = false;
      // A missing geometry is null (RFC 7946).
      if (lengths[at]! < 0) bytes.markup(NULL);
      else bytes.copy(batch, starts[at]!, lengths[at]!);
      bytes.markup(PROPERTIES);
      for (let index = 0; index < members.length; index++) members[index]!(bytes, batch, at + index + 1);
      bytes.markup(END_FEATURE);
    }
    await bytes.flushFilledTo(out);
  }
  bytes.ascii('\n]}\n');
  await bytes.flushTo(out);
}

const FEATURE = new Markup('{"type":"Feature","geometry":');
const NEXT_FEATURE = new Markup(',\n{"type":"Feature","geometry":');
const PROPERTIES = new Markup(',"properties":{');
const END_FEATURE = new Markup('}}');
const NULL = new Markup('null');

/** Writes one cell of a batch as a JSON value, or a member of an object (its key first). */
type JsonValue = (out: ByteOutput, batch: CellBatch, index: number) => void;

/**
 * A member of the properties object: the key, then the value. Constants go in one copy
 * (copies of small buffers are most of the time spent on keys): `"key":null`, and for
 * booleans `"key":true` and `"key":false`.
 */
function property(column: ExportColumn, key: string): JsonValue {
  const name = new Markup(key);
  const withNull = new Markup(`${key}null`);
  if (column.kind === 'boolean') {
    const withTrue = new Markup(`${key}true`);
    const withFalse = new Markup(`${key}false`);
    return (out, { buffer, starts, lengths }, index) =>
      out.markup(lengths[index]! < 0 ? withNull : buffer[starts[index]!] === 1 ? withTrue : withFalse);
  }
  const value = jsonValue(column);
  return (out, batch, index) => {
    if (batch.lengths[index]! < 0) return out.markup(withNull);
    out.markup(name);
    value(out, batch, index);
  };
}

/**
 * How each column's cells become JSON (the cells copiedColumn reads with numbers as text):
 * text escaped as JSON requires; numbers as PostgreSQL writes them (exact), except NaN and the
 * infinities, which JSON has no number for (strings, as PostgreSQL's to_json writes them);
 * dates as YYYY-MM-DD, times as RFC 3339 (±infinity null); JSON and geometries as they are;
 * booleans are written with their key (see property).
 */
function jsonValue(column: ExportColumn): JsonValue {
  switch (column.kind) {
    case 'integer':
    case 'number':
      return (out, batch, index) => {
        const { buffer, starts, lengths } = batch;
        const start = starts[index]!;
        const lead = buffer[start] === 0x2d ? buffer[start + 1]! : buffer[start]!;
        if (lead >= 0x30 && lead <= 0x39) out.copy(batch, start, lengths[index]!);
        else out.jsonString(batch, start, lengths[index]!);
      };
    case 'date': {
      const day = dayText();
      return (out, batch, index) => {
        // ±infinity: no calendar day, null (as in the XLSX and Parquet exports).
        const days = readCell(batch, index, 'date') as number | null;
        out.ascii(days === null ? 'null' : `"${day(days)}"`);
      };
    }
    case 'datetime': {
      const local = !zoned(column);
      return (out, batch, index) => {
        const time = readCell(batch, index, 'time') as number | null;
        if (time === null) return out.markup(NULL);
        const iso = new Date(time).toISOString();
        out.ascii(`"${local ? iso.slice(0, -1) : iso}"`);
      };
    }
    case 'json':
    case 'geometry':
      return (out, batch, index) => out.copy(batch, batch.starts[index]!, batch.lengths[index]!);
    default:
      return (out, batch, index) => out.jsonString(batch, batch.starts[index]!, batch.lengths[index]!);
  }
}
