import { TerminalError } from '../errors/errors';

/**
 * Cuts a JSON document into the texts of the items of one array, as the text streams in, so
 * that each item is parsed on its own by JSON.parse (the platform's parser, far faster than
 * a streaming tokenizer building values piece by piece): the items of the top-level array,
 * or of the array under one key of the top-level object (a FeatureCollection's "features").
 * It only follows strings and nesting to find where items begin and end; JSON.parse judges
 * each item. Only the item in progress is held, up to `maxItemChars`.
 */
/**
 * The deepest nesting a JSON file of rows may have. Rows nest a few levels (a GeoJSON
 * geometry, five); reading values nested hundreds of thousands deep overflows the stack.
 */
export const MAX_JSON_DEPTH = 256;

export class JsonItemSplitter {
  /** Nesting depth (1 inside the top-level object or array). */
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** The item in progress, as the pieces of text it spans so far (null: between items). */
  private item: string[] | null = null;
  private itemChars = 0;
  /** The top-level key being read, likewise. */
  private keyParts: string[] | null = null;
  private lastKey = '';
  private inItems = false;
  private itemsSeen = false;
  private items = 0;
  private ended = false;

  constructor(
    /** undefined: the items of the top-level array; else the key of the array in the top-level object. */
    private readonly key: string | undefined,
    /** What an item is called in messages ("feature", "item"). */
    private readonly noun: string,
    private readonly maxItemChars = 128 * 1024 * 1024,
  ) {}

  /**
   * Adds text; returns the texts of the items it completed. Only the new text is scanned:
   * an item spanning many pieces is joined once, when it ends.
   */
  push(text: string): string[] {
    const completed: string[] = [];
    const itemDepth = this.key === undefined ? 1 : 2;
    let itemFrom = this.item ? 0 : -1;
    let keyFrom = this.keyParts ? 0 : -1;
    // Inside strings (most of the text) the scan jumps from quote to quote with indexOf; the
    // next backslash is searched again only once passed.
    let nextBackslash = text.indexOf('\\');
    for (let at = 0; at < text.length; at++) {
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          continue;
        }
        if (nextBackslash !== -1 && nextBackslash < at) nextBackslash = text.indexOf('\\', at);
        const quote = text.indexOf('"', at);
        if (nextBackslash !== -1 && (quote === -1 || nextBackslash < quote)) {
          at = nextBackslash;
          this.escaped = true;
          continue;
        }
        if (quote === -1) break; // the string goes on in the next piece
        at = quote;
        this.inString = false;
        if (this.keyParts) {
          this.lastKey = this.keyParts.join('') + text.slice(keyFrom, at);
          this.keyParts = null;
          keyFrom = -1;
        }
        continue;
      }
      const code = text.charCodeAt(at);
      if (code === SPACE || code === LF || code === CR || code === TAB) continue;
      if (this.ended) throw invalid('there is more after the end of the document');
      if (this.inItems && this.depth === itemDepth && !this.item) {
        // Between items: a comma, the next item (an object), or the end of the array.
        if (code === COMMA) continue;
        if (code === CLOSE_BRACKET) {
          this.inItems = false;
          this.close();
          continue;
        }
        if (code !== OPEN_BRACE) {
          throw new TerminalError(
            `${this.noun} ${this.items + 1} is not a JSON object`,
            `send an array of objects, one per ${this.noun}`,
          );
        }
        this.item = [];
        this.itemChars = 0;
        itemFrom = at;
      }
      if (code === QUOTE) {
        this.inString = true;
        if (this.depth === 1 && this.key !== undefined && !this.inItems) {
          this.keyParts = [];
          keyFrom = at + 1;
        }
      } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
        if (this.depth === 0) this.openDocument(code);
        else if (
          this.depth === 1 &&
          code === OPEN_BRACKET &&
          this.key !== undefined &&
          this.lastKey === this.key
        ) {
          this.inItems = true;
          this.itemsSeen = true;
        }
        if (++this.depth > MAX_JSON_DEPTH)
          throw new TerminalError(
            `invalid JSON for a table: nested more than ${MAX_JSON_DEPTH} levels deep (item ${this.items + 1})`,
            'a row of a table is an object of values; flatten the nested structure before sending it',
          );
      } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
        this.close();
        if (this.depth === itemDepth && this.item) {
          completed.push(this.item.join('') + text.slice(itemFrom, at + 1));
          this.items++;
          this.item = null;
          itemFrom = -1;
        }
      } else if (this.depth === 0) {
        throw invalid('the document is not a JSON object or array');
      }
    }
    if (this.item) {
      this.item.push(text.slice(itemFrom));
      this.itemChars += text.length - itemFrom;
      if (this.itemChars > this.maxItemChars) {
        throw new TerminalError(
          `${this.noun} ${this.items + 1} is longer than ${this.maxItemChars} characters`,
          'split the data into smaller items, or check that the file is well-formed JSON',
        );
      }
    }
    if (this.keyParts) this.keyParts.push(text.slice(keyFrom));
    return completed;
  }

  /** At the end of the text: checks that the document was complete. */
  end(): void {
    if (this.depth > 0 || this.inString) throw invalid('the file ends before the document does (truncated?)');
    if (!this.ended) throw invalid('the file holds no JSON document');
    if (this.key !== undefined && !this.itemsSeen) {
      throw new TerminalError(
        `the document has no "${this.key}" array`,
        `put the rows in "${this.key}": [ … ]`,
      );
    }
  }

  private close(): void {
    this.depth--;
    if (this.depth < 0) throw invalid('a closing bracket without its opening one');
    if (this.depth === 0) this.ended = true;
  }

  private openDocument(code: number): void {
    if (this.key === undefined) {
      if (code !== OPEN_BRACKET) throw invalid('the document is not a JSON array');
      this.inItems = true;
      this.itemsSeen = true;
    } else if (code !== OPEN_BRACE) throw invalid('the document is not a JSON object');
  }
}

function invalid(reason: string): TerminalError {
  return new TerminalError(`invalid JSON: ${reason}`, 'check that the file is complete, well-formed JSON');
}

const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const COMMA = 44;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
