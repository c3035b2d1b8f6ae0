import { Transform } from 'node:stream';
import { TerminalError } from '../errors';

/**
 * Watches decoded CSV text on its way to the parser, cheaply (indexOf jumps), for the two
 * ways a file breaks a streaming parser: a quote that is never closed (the rest of the file
 * would become one cell) and a record longer than `maxRecordChars` (memory). Quotes are
 * counted as RFC 4180 writes them: a cell with a quote is quoted, inner quotes doubled.
 */
export function quoteGuard(maxRecordChars: number): Transform {
  let inQuotes = false;
  let line = 1;
  let quoteOpenedAt = 0;
  let recordChars = 0;
  const countLines = (text: string, from: number, to: number) => {
    for (let at = text.indexOf('\n', from); at !== -1 && at < to; at = text.indexOf('\n', at + 1)) line++;
  };
  let first = true;
  return new Transform({
    // Strings in, strings out: the parser after us takes text, no need to re-encode.
    objectMode: true,
    transform(chunk: string | Buffer, _encoding, callback) {
      let text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      if (first) {
        text = text.replace(/^\uFEFF/, ''); // a UTF-8 byte order mark is not data
        first = false;
      }
      let i = 0;
      while (i < text.length) {
        const quote = text.indexOf('"', i);
        if (inQuotes) {
          const end = quote === -1 ? text.length : quote;
          countLines(text, i, end);
          recordChars += end - i;
          if (quote === -1) break;
          inQuotes = false;
          i = quote + 1;
          continue;
        }
        const newline = text.indexOf('\n', i);
        if (newline !== -1 && (quote === -1 || newline < quote)) {
          line++;
          recordChars = 0;
          i = newline + 1;
        } else if (quote !== -1) {
          recordChars += quote - i;
          inQuotes = true;
          quoteOpenedAt = line;
          i = quote + 1;
        } else {
          recordChars += text.length - i;
          break;
        }
      }
      if (recordChars > maxRecordChars) {
        callback(
          new TerminalError(
            `a record starting near line ${inQuotes ? quoteOpenedAt : line} is longer than ${maxRecordChars} characters`,
            inQuotes
              ? 'a quote is probably never closed: check quotes around that line'
              : 'split very long cells, or send this data in another format',
          ),
        );
        return;
      }
      callback(null, text);
    },
    flush(callback) {
      if (inQuotes) {
        callback(
          new TerminalError(
            `unbalanced quotes: the quote opened at line ${quoteOpenedAt} is never closed`,
            'a cell containing " must be quoted, with each inner " doubled ("")',
          ),
        );
      } else callback();
    },
  });
}
