import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type yauzl from 'yauzl';
import { TerminalError } from '../errors/errors';
import { chain } from './chain';
import { openCsv, type CsvOptions } from './csv';
import { openGeoJson, openJsonArray, openNdjson } from './json';
import { openParquet } from './parquet';
import { peek } from './sniff';
import type { DataTable, FileFormat } from './table';
import { openXlsx } from './xlsx';

export interface OpenOptions {
  /** File name (the extension is a hint; the content decides). */
  name: string;
  csv?: CsvOptions;
  /** XLSX sheet: 1-based number or name. */
  sheet?: string | number;
  /** Bytes a compressed file or archive may expand to (zip bombs stop here). */
  maxUncompressedBytes?: number;
  /** Files an archive may hold. */
  maxArchiveEntries?: number;
  /** An XLSX's shared strings, which are held in memory (default MAX_SHARED_STRINGS_BYTES). */
  maxSharedStringsBytes?: number;
  /** Where zip and Parquet files are spooled (they need random access). */
  tmpDir?: string;
  /** Memory a Parquet row group may take once read (default: half the heap's limit). */
  parquetMemoryBudget?: number;
}

const DEFAULT_MAX_UNCOMPRESSED = 4 * 1024 ** 3;

/**
 * Opens every table of a file, whatever its format: CSV/TSV, XLSX, JSON array, NDJSON,
 * GeoJSON, Parquet, possibly gzip-compressed or in a zip archive of one or several files.
 * The format is chosen from the content (magic bytes, first characters), not the name.
 */
export async function* openTables(input: Readable, options: OpenOptions): AsyncGenerator<DataTable> {
  yield* openDetected(input, options, []);
}

async function* openDetected(
  input: Readable,
  options: OpenOptions,
  containers: DataTable['containers'],
): AsyncGenerator<DataTable> {
  const { sample, stream } = await peek(input, 4096);
  const describe = (format: FileFormat) => ({ name: options.name, format, containers });
  const kind = sniffKind(sample);
  switch (kind) {
    case 'gzip': {
      if (containers.length >= 2)
        throw new TerminalError('archives nested too deep', 'send at most one level of zip or gzip');
      const inner = stream
        .pipe(createGunzip())
        .pipe(limitBytes(options.maxUncompressedBytes ?? DEFAULT_MAX_UNCOMPRESSED, options.name));
      yield* openDetected(inner, { ...options, name: options.name.replace(/\.gz$/i, '') }, [
        ...containers,
        'gzip',
      ]);
      return;
    }
    case 'zip':
      yield* openZip(stream, options, containers);
      return;
    case 'parquet': {
      // Parquet needs random access: spool to disk; the file lives until the rows are read.
      const spooled = await spool(stream, options);
      try {
        yield await openParquet(spooled.file, describe('parquet'), options.parquetMemoryBudget);
      } finally {
        await spooled.remove();
      }
      return;
    }
    case 'html':
      throw new TerminalError(
        'the file is an HTML page, not data',
        'the source probably served an error page: check its URL',
      );
    case 'json-array':
      yield await openJsonArray(stream, describe('json'));
      return;
    case 'geojson':
      yield await openGeoJson(stream, describe('geojson'));
      return;
    case 'ndjson':
      yield await openNdjson(stream, describe('ndjson'));
      return;
    case 'json-object':
      throw new TerminalError(
        'the file is a single JSON object, not a table',
        'send a JSON array of objects, NDJSON (one object per line) or a GeoJSON FeatureCollection',
      );
    case 'text': {
      const table = await openCsv(stream, options.csv ?? {});
      yield {
        ...describe('csv'),
        dialect: table.dialect,
        header: table.header,
        batches: table.batches,
        csvRuns: table.runs,
        utf8Bytes: table.utf8Bytes,
      };
      return;
    }
  }
}

type Kind =
  'gzip' | 'zip' | 'parquet' | 'html' | 'json-array' | 'geojson' | 'ndjson' | 'json-object' | 'text';

/** What the first bytes say the file is. */
export function sniffKind(sample: Buffer): Kind {
  if (sample[0] === 0x1f && sample[1] === 0x8b) return 'gzip';
  if (sample.subarray(0, 4).toString('latin1') === 'PK\u0003\u0004') return 'zip';
  if (sample.subarray(0, 4).toString('latin1') === 'PAR1') return 'parquet';
  const text = sample
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  if (/^<(!doctype html|html|head|body)\b/i.test(text)) return 'html';
  if (text.startsWith('[')) return 'json-array';
  if (text.startsWith('{')) {
    if (/"type"\s*:\s*"FeatureCollection"/.test(text)) return 'geojson';
    const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
    if (lines.length > 1 && lines[1]!.trimStart().startsWith('{')) return 'ndjson';
    // A short single line could be NDJSON with one record: parse to tell.
    try {
      JSON.parse(lines[0] ?? '');
      return lines.length === 1 && text.length < sample.length ? 'ndjson' : 'json-object';
    } catch {
      return /"features"\s*:/.test(text) ? 'geojson' : 'json-object';
    }
  }
  return 'text';
}

/** Fails the stream past `max` bytes: a compressed file may not expand without bound. */
function limitBytes(max: number, name: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > max) {
        callback(
          new TerminalError(
            `${name} expands to more than ${max} bytes`,
            'compressed data over the limit is refused (zip bomb protection)',
          ),
        );
      } else callback(null, chunk);
    },
  });
}

async function spool(
  input: Readable,
  options: OpenOptions,
): Promise<{ file: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(options.tmpDir ?? tmpdir(), 'datacycle-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  const file = path.join(dir, 'data');
  try {
    await pipeline(input, createWriteStream(file));
  } catch (error) {
    await remove();
    throw error;
  }
  return { file, remove };
}

/**
 * A workbook's parts as its zip declares them: the whole under the archive cap (a zip bomb
 * dressed as a workbook), and its shared strings, which the reader keeps in memory (cells
 * point into them), under MAX_SHARED_STRINGS_BYTES.
 */
function checkWorkbookSizes(entries: { fileName: string; uncompressedSize: number }[], options: OpenOptions) {
  // A workbook is a dozen parts, a few per sheet: the same cap on parts as on archives' files,
  // with room for workbooks of many sheets.
  const maxParts = Math.max(options.maxArchiveEntries ?? 100, MAX_WORKBOOK_PARTS);
  if (entries.length > maxParts)
    throw new TerminalError(
      `the workbook holds ${entries.length} parts, more than ${maxParts}`,
      'zip bomb protection: a workbook of this many parts is refused; export its sheet as CSV',
    );
  const max = options.maxUncompressedBytes ?? DEFAULT_MAX_UNCOMPRESSED;
  const declared = entries.reduce((sum, entry) => sum + entry.uncompressedSize, 0);
  if (declared > max)
    throw new TerminalError(
      `the workbook expands to ${declared} bytes, more than ${max}`,
      'zip bomb protection: split the workbook, or export its sheet as CSV',
    );
  const strings = entries.find((entry) => entry.fileName === 'xl/sharedStrings.xml');
  const maxStrings = options.maxSharedStringsBytes ?? MAX_SHARED_STRINGS_BYTES;
  if (strings && strings.uncompressedSize > maxStrings)
    throw new TerminalError(
      `the workbook's shared strings take ${strings.uncompressedSize} bytes, more than ${maxStrings}: they are held in memory while the sheet is read`,
      'export the sheet as CSV (read as a stream, whatever its size)',
    );
}

/** Parts (zip entries) an XLSX may hold: sheets, their relations, styles, images. */
export const MAX_WORKBOOK_PARTS = 2000;

/** Shared strings an XLSX may hold (uncompressed XML); what the reader keeps in memory. */
export const MAX_SHARED_STRINGS_BYTES = 64 * 1024 ** 2;

async function* openZip(
  input: Readable,
  options: OpenOptions,
  containers: DataTable['containers'],
): AsyncGenerator<DataTable> {
  const { file, remove } = await spool(input, options);
  try {
    const zip = await openZipFile(file);
    try {
      const entries = await listEntries(zip);
      const names = new Set(entries.map((entry) => entry.fileName));
      if (names.has('[Content_Types].xml') && [...names].some((name) => name.startsWith('xl/'))) {
        checkWorkbookSizes(entries, options);
        yield await openXlsx(
          createReadStream(file),
          { name: options.name, format: 'xlsx', containers },
          options.sheet,
        );
        return;
      }
      if (containers.includes('zip'))
        throw new TerminalError('zip archives nested in a zip archive are not read');
      const data = entries.filter(
        (entry) => !entry.fileName.endsWith('/') && !/(^|\/)(__MACOSX|\.)/.test(entry.fileName),
      );
      const max = options.maxUncompressedBytes ?? DEFAULT_MAX_UNCOMPRESSED;
      const declared = data.reduce((sum, entry) => sum + entry.uncompressedSize, 0);
      if (data.length > (options.maxArchiveEntries ?? 100)) {
        throw new TerminalError(
          `the archive holds ${data.length} files, more than ${options.maxArchiveEntries ?? 100}`,
        );
      }
      if (declared > max) {
        throw new TerminalError(
          `the archive expands to ${declared} bytes, more than ${max}`,
          'zip bomb protection: send smaller archives',
        );
      }
      if (data.length === 0) throw new TerminalError('the zip archive holds no file');
      for (const entry of data) {
        const stream = await openEntry(zip, entry);
        // yauzl checks the real size against the declared one; the limit guards the rest.
        const limited = chain(stream, limitBytes(max, entry.fileName));
        yield* openDetected(limited, { ...options, name: entry.fileName }, [...containers, 'zip']);
      }
    } finally {
      zip.close();
    }
  } finally {
    await remove();
  }
}

/** yauzl is loaded for zip archives only (the offline commands start faster without it). */
async function openZipFile(file: string): Promise<yauzl.ZipFile> {
  const { default: zips } = await import('yauzl');
  return new Promise((resolve, reject) =>
    zips.open(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true }, (error, zip) =>
      error ? reject(new TerminalError(`the zip archive cannot be read: ${error.message}`)) : resolve(zip),
    ),
  );
}

function listEntries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zip.on('entry', (entry: yauzl.Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    zip.on('error', (error: Error) =>
      reject(new TerminalError(`the zip archive cannot be read: ${error.message}`)),
    );
    zip.readEntry();
  });
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) =>
    zip.openReadStream(entry, (error, stream) =>
      error
        ? reject(new TerminalError(`${entry.fileName} cannot be read from the archive: ${error.message}`))
        : resolve(stream),
    ),
  );
}
