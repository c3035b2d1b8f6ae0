import type { Readable } from 'node:stream';
import { TerminalError } from '../errors/errors';
import { parseCsvRun } from './csv-records';
import { RecordSplitter, type CsvRun } from './record-splitter';
import { detectDelimiter, detectEncoding, peek, type Delimiter, type Encoding } from './sniff';
import type { CsvDialect, CsvRuns, RowBatch } from './table';

export type { CsvDialect, CsvRuns } from './table';
import { fromUtf8Bytes, utf8ByteReader } from '../text/utf8-bytes';

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
  const decode = await decoderOf(encoding);
  const sampleText = decode.text(sample);
  const delimiter = options.delimiter ?? detectDelimiter(sampleText.replace(/^\uFEFF/, ''));

  // The splitter hands out runs of whole records, numbered; each is parsed in one
  // synchronous call (parseCsvRun), here or in a validation worker, so rows travel in
  // batches rather than one promise each.
  const splitter = new RecordSplitter(delimiter, options.maxCellBytes ?? 16 * 1024 * 1024);
  const utf8Bytes = options.utf8Bytes === true && encoding === 'utf-8';
  const decoder = utf8Bytes ? utf8ByteReader() : decode.stream();
  async function* runs(): AsyncGenerator<CsvRun> {
    for await (const chunk of stream) {
      // Decoded in small pieces: strings over ~64k characters would be allocated outside
      // the young generation and make garbage collection far more expensive.
      for (let at = 0; at < (chunk as Buffer).length; at += PIECE_BYTES) {
        const run = splitter.push(decoder.write((chunk as Buffer).subarray(at, at + PIECE_BYTES)));
        if (run !== undefined) yield run;
      }
    }
    const run = splitter.push(decoder.end());
    if (run !== undefined) yield run;
    const rest = splitter.end();
    if (rest !== undefined) yield rest;
  }

  const source = runs();
  const first = await source.next();
  if (first.done) throw new TerminalError('the file is empty', 'send a file with a header row and data rows');
  const parsed = parseCsvRun(first.value, delimiter);
  const header = parsed.shift()!.cells.map((label) => (utf8Bytes ? fromUtf8Bytes(label) : label).trim());

  async function* batches(): AsyncGenerator<RowBatch> {
    if (parsed.length > 0) yield parsed;
    for await (const run of source) yield parseCsvRun(run, delimiter);
  }
  return {
    dialect: { encoding, delimiter },
    header,
    utf8Bytes,
    batches: batches(),
    runs: { delimiter, parsed, rest: source },
  };
}

/**
 * UTF-8 through the platform's decoder (several times faster); Windows-1252 through
 * iconv-lite, loaded only then (the offline commands start faster without it).
 */
async function decoderOf(encoding: Encoding): Promise<{
  text(bytes: Buffer): string;
  stream(): { write(chunk: Buffer): string; end(): string };
}> {
  if (encoding === 'utf-8') {
    return {
      text: (bytes) => new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes),
      stream() {
        const decoder = new TextDecoder('utf-8'); // drops a byte order mark
        return { write: (chunk) => decoder.decode(chunk, { stream: true }), end: () => decoder.decode() };
      },
    };
  }
  const { default: iconv } = await import('iconv-lite');
  return {
    text: (bytes) => iconv.decode(bytes, encoding),
    stream() {
      const decoder = iconv.getDecoder(encoding);
      return { write: (chunk) => decoder.write(chunk), end: () => decoder.end() ?? '' };
    },
  };
}

function looksBinary(sample: Buffer): boolean {
  const head = sample.subarray(0, 8192);
  let control = 0;
  for (const byte of head) {
    if (byte === 0) return true;
    if (byte < 9 || (byte > 13 && byte < 32)) control++;
  }
  return control > head.length * 0.05;
}
