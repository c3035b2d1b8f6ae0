import type { RowBatch } from '../formats/table';
import { RowValidator, type RowClaim, type RowError } from '../table-schema/rows';
import type { TableSchema } from '../table-schema/schema';
import { toUtf8Bytes } from '../utf8-bytes';
import { copyTextRow } from '../warehouse/copy-text';

/** Everything needed to validate the rows of one table, wherever that runs (a worker gets a copy). */
export interface TableSetup {
  schema: TableSchema;
  /** Where each field sits among the file's columns (from checkHeader). */
  columnOfField: Map<string, number>;
  columnCount: number;
  /** The cells are UTF-8 bytes held one per character (see DataTable.utf8Bytes). */
  utf8Bytes: boolean;
  /** The lineage columns in COPY text (see lineageText); without it rows are only counted. */
  lineage?: string;
}

export interface ValidatedBatch {
  valid: number;
  /** For validators that leave uniqueness to another (see RowValidator.claim): what the valid rows claim. */
  claims?: RowClaim[];
}

/** Field types whose values are normalized to JSON text (JSON.stringify may write backslashes). */
const JSON_TEXT_TYPES = new Set(['object', 'array', 'geojson']);

/**
 * Validates batches of one table's rows and encodes the valid ones for COPY: the loop shared
 * by the reading thread and the validation workers, so both produce the same bytes.
 */
export class BatchValidation {
  readonly validator: RowValidator;
  private readonly between?: string;
  /** In a plain batch only values written anew as JSON can hold characters to escape. */
  private readonly escapedWhenPlain: boolean[];

  constructor(
    setup: TableSetup,
    /** Leave unique values and primary keys to the caller, as claims (see RowValidator). */
    private readonly uniquenessElsewhere = false,
  ) {
    const { schema, columnOfField, columnCount, utf8Bytes, lineage } = setup;
    this.validator = new RowValidator(schema, columnOfField, columnCount, utf8Bytes, uniquenessElsewhere);
    // A table read as UTF-8 bytes is encoded as bytes, its lineage too (a key may hold "é").
    this.between = utf8Bytes && lineage !== undefined ? toUtf8Bytes(lineage) : lineage;
    this.escapedWhenPlain = schema.fields.map((field) => JSON_TEXT_TYPES.has(field.type));
  }

  /** Validates a batch; with lineage, its valid rows are written to `output` in COPY text. */
  validate(batch: RowBatch, onError: (error: RowError) => void, output?: CopyWriter): ValidatedBatch {
    const between = output === undefined ? undefined : this.between;
    const escaped = batch.plain ? this.escapedWhenPlain : undefined;
    const claims: RowClaim[] | undefined =
      this.uniquenessElsewhere && this.validator.checksUniqueness ? [] : undefined;
    let valid = 0;
    for (const { rowNumber, cells } of batch) {
      const result = this.validator.validate(cells, rowNumber);
      if (result.ok) {
        valid++;
        if (between !== undefined) output!.write(copyTextRow(result.values, between, rowNumber, escaped));
        claims?.push(this.validator.claimOf(result.values, rowNumber));
      } else result.errors.forEach(onError);
    }
    return { valid, claims };
  }
}

/**
 * COPY text written to bytes row by row: cheaper than encoding one long concatenation at the
 * end (walking a string built of thousands of pieces costs more than the copy itself).
 */
export class CopyWriter {
  private buffer: Buffer<ArrayBuffer>;
  private length = 0;

  constructor(
    /** 'latin1' for text that holds UTF-8 bytes one per character (see DataTable.utf8Bytes). */
    private readonly encoding: 'latin1' | 'utf8',
    private readonly initialBytes = 256 * 1024,
  ) {
    this.buffer = Buffer.allocUnsafeSlow(initialBytes);
  }

  get bytes(): number {
    return this.length;
  }

  write(text: string): void {
    const most = this.encoding === 'latin1' ? text.length : text.length * 3;
    if (this.length + most > this.buffer.length) {
      const larger = Buffer.allocUnsafeSlow(Math.max(this.buffer.length * 2, this.length + most));
      this.buffer.copy(larger, 0, 0, this.length);
      this.buffer = larger;
    }
    this.length += this.buffer.write(text, this.length, this.encoding);
  }

  /** The bytes written since the last take, over an ArrayBuffer of their own (it can be transferred). */
  take(): Buffer<ArrayBuffer> {
    const written = this.buffer.subarray(0, this.length);
    this.buffer = Buffer.allocUnsafeSlow(this.initialBytes);
    this.length = 0;
    return written;
  }
}
