import { Readable } from 'node:stream';

export type Encoding = 'utf-8' | 'windows-1252';
export type Delimiter = ',' | ';' | '\t' | '|';

const SAMPLE_BYTES = 64 * 1024;

/** Reads the first bytes of a stream and gives back a stream that still starts at byte 0. */
export async function peek(
  stream: Readable,
  bytes = SAMPLE_BYTES,
): Promise<{ sample: Buffer; stream: Readable }> {
  const iterator = stream[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < bytes) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value as Uint8Array);
    chunks.push(chunk);
    length += chunk.length;
  }
  const sample = Buffer.concat(chunks);
  async function* replay() {
    yield sample;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value as Buffer;
    }
  }
  return { sample: sample.subarray(0, bytes), stream: Readable.from(replay(), { objectMode: false }) };
}

/**
 * UTF-8 when the sample decodes as UTF-8 (a multi-byte sequence cut at the end of the
 * sample is fine), Windows-1252 otherwise: the usual pair for French public data.
 */
export function detectEncoding(sample: Buffer): Encoding {
  if (sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf) return 'utf-8';
  let end = sample.length;
  // Do not judge a sequence the sample boundary cut in two.
  for (let back = 1; back <= 3 && end - back >= 0; back++) {
    const byte = sample[end - back] ?? 0;
    if ((byte & 0xc0) === 0xc0) {
      end -= back;
      break;
    }
    if ((byte & 0x80) === 0) break;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample.subarray(0, end));
    return 'utf-8';
  } catch {
    return 'windows-1252';
  }
}

/**
 * Picks the delimiter that splits the first lines into the same, largest number of
 * fields, ignoring delimiters inside quotes.
 */
export function detectDelimiter(text: string): Delimiter {
  const lines = splitLogicalLines(text).slice(0, 20);
  if (lines.length > 1 && !/[\r\n]$/.test(text)) lines.pop(); // last line may be cut by the sample
  const candidates: Delimiter[] = [',', ';', '\t', '|'];
  let best: { delimiter: Delimiter; score: number } = { delimiter: ',', score: 0 };
  for (const delimiter of candidates) {
    const counts = lines
      .filter((line) => line.trim() !== '')
      .map((line) => countOutsideQuotes(line, delimiter));
    if (counts.length === 0 || counts[0] === 0) continue;
    const first = counts[0] ?? 0;
    const consistent = counts.filter((count) => count === first).length / counts.length;
    const score = consistent * 1000 + first;
    if (score > best.score) best = { delimiter, score };
  }
  return best.delimiter;
}

function splitLogicalLines(text: string): string[] {
  const lines: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') quoted = !quoted;
    if (!quoted && (char === '\n' || char === '\r')) {
      if (char === '\r' && text[i + 1] === '\n') i++;
      lines.push(current);
      current = '';
    } else current += char;
  }
  if (current !== '') lines.push(current);
  return lines;
}

function countOutsideQuotes(line: string, delimiter: string): number {
  let count = 0;
  let quoted = false;
  for (const char of line) {
    if (char === '"') quoted = !quoted;
    else if (char === delimiter && !quoted) count++;
  }
  return count;
}
