import type { Readable } from 'node:stream';
import { TerminalError } from '../errors/errors';
import { parseCsvRun } from './csv-records';
import { RecordSplitter, type CsvRun } from './record-splitter';
import { detectDelimiter, detectEncoding, peek, type Delimiter, type Encoding } from './sniff';
import type { CsvDialect, CsvRuns, RowBatch } from './table';

export type { CsvDialect, CsvRuns } from './table';
import { fromUtf8Bytes } from '../text/utf8-bytes';
import { runTextReader, type RunReading } from './run-text';

export interface CsvTable {
  dialect: CsvDialect;
  header: string[];
  /** Cells are UTF-8 bytes, one per character (see CsvOptions.utf8Bytes). */
  utf8Bytes: boolean;
  /** Data records after the header, in batches, each with its 1-based row number (header = row 1). */
  batches: AsyncIterable<RowBatch>;
  /** The same records unparsed: read either this or `batches` (see DataTable.csvRuns). */
  runs: CsvRuns;
}

export interface CsvOptions {
  encoding?: Encoding | 'latin1';
  delimiter?: Delimiter;
  /** A longer cell is refused (protects memory from unbalanced quotes). */
  maxCellBytes?: number;
  /**
   * Hand out the cells of a UTF-8 file as their bytes, one character per byte (see
   * utf8-bytes.ts), for validation and loading; the header is decoded all the same.
   */
  utf8Bytes?: boolean;
}

const PIECE_BYTES = 16 * 1024;

/** Opens a CSV/TSV byte stream: detects encoding and delimiter, reads the header, streams the rest. */
export async function openCsv(input: Readable, options: CsvOptions = {}): Promise<CsvTable> {
  const { sample, stream } = await peek(input);
  if (sample.length === 0)
    throw new TerminalError('the file is empty', 'send a file with a header row and data rows');
  if (looksBinary(sample)) {
    throw new TerminalError(
      'the file is not text (binary content found)',
      'check that the file is a CSV export',
    );
  }
  const detected = detectEncoding(sample);
  if (options.encoding === 'utf-8' && detected !== 'utf-8') {
    throw new TerminalError(
      'the dataset declares UTF-8 but the file is not valid UTF-8 (it looks like Windows-1252)',
      'export the file as UTF-8, or set format.encoding: windows-1252 in the dataset file',
    );
  }
  const encoding: Encoding = options.encoding === 'latin1' ? 'windows-1252' : (options.encoding ?? detected);
  const sampleText = (await runTextReader(encoding))(sample).text;
  const delimiter = options.delimiter ?? detectDelimiter(sampleText.replace(/^\uFEFF/, ''));

  // The splitter hands out runs of whole records, numbered, still as bytes; each is decoded
  // and parsed in one synchronous call (parseCsvRun), here or in a validation worker, so rows
  // travel in batches rather than one promise each.
  const splitter = new RecordSplitter(delimiter, options.maxCellBytes ?? 16 * 1024 * 1024);
  const utf8Bytes = options.utf8Bytes === true && encoding === 'utf-8';
  const reading: RunReading = utf8Bytes ? 'utf8-bytes' : encoding;
  const read = await runTextReader(reading);
  async function* runs(): AsyncGenerator<CsvRun> {
    // A UTF-8 byte order mark is not text: dropped at the start of the file only.
    let start: Buffer | undefined = encoding === 'utf-8' ? Buffer.alloc(0) : undefined;
    for await (const piece of stream) {
      let chunk = piece as Buffer;
      if (start !== undefined) {
        chunk = start.length === 0 ? chunk : Buffer.concat([start, chunk]);
        if (chunk.length < BOM.length && BOM.subarray(0, chunk.length).equals(chunk)) {
          start = chunk; // too short to tell
          continue;
        }
        start = undefined;
        if (chunk.subarray(0, BOM.length).equals(BOM)) chunk = chunk.subarray(BOM.length);
      }
      // Cut in small pieces: a run is at least 32 KiB and ends at the piece in which that
      // was reached, so runs stay small (a string over ~64k characters would be allocated
      // outside the young generation, where garbage collection costs far more).
      for (let at = 0; at < chunk.length; at += PIECE_BYTES) {
        const run = splitter.push(chunk.subarray(at, at + PIECE_BYTES));
        if (run !== undefined) yield run;
      }
    }
    if (start !== undefined && start.length > 0) {
      const run = splitter.push(start);
      if (run !== undefined) yield run;
    }
    const rest = splitter.end();
    if (rest !== undefined) yield rest;
  }

  const source = runs();
  const first = await source.next();
  if (first.done) throw new TerminalError('the file is empty', 'send a file with a header row and data rows');
  const parsed = parseCsvRun(first.value, delimiter, read);
  const header = parsed.shift()!.cells.map((label) => (utf8Bytes ? fromUtf8Bytes(label) : label).trim());

  async function* batches(): AsyncGenerator<RowBatch> {
    if (parsed.length > 0) yield parsed;
    for await (const run of source) yield parseCsvRun(run, delimiter, read);
  }
  return {
    dialect: { encoding, delimiter },
    header,
    utf8Bytes,
    batches: batches(),
    runs: { delimiter, reading, read, parsed, rest: source, recycle: (run) => splitter.recycle(run) },
  };
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function looksBinary(sample: Buffer): boolean {
  const head = sample.subarray(0, 8192);
  let control = 0;
  for (const byte of head) {
    if (byte === 0) return true;
    if (byte < 9 || (byte > 13 && byte < 32)) control++;
  }
  return control > head.length * 0.05;
}
