import type { RowBatch } from '../../platform/formats/table';
import { RowValidator, type RowClaim, type RowError } from '../../platform/table-schema/rows';
import type { TableSchema } from '../../platform/table-schema/schema';
import { CopyBinaryRows, type CopyWriter, type Lineage } from '../../platform/warehouse/copy-binary';

/** Everything needed to validate the rows of one table, wherever that runs (a worker gets a copy). */
export interface TableSetup {
  schema: TableSchema;
  /** Where each field sits among the file's columns (from checkHeader). */
  columnOfField: Map<string, number>;
  columnCount: number;
  /** The cells are UTF-8 bytes held one per character (see DataTable.utf8Bytes). */
  utf8Bytes: boolean;
  /** The lineage columns of the rows loaded; without it rows are only counted. */
  lineage?: Lineage;
}

export interface ValidatedBatch {
  valid: number;
  /** For validators that leave uniqueness to another (see RowValidator.claim): what the valid rows claim. */
  claims?: RowClaim[];
}

/**
 * Validates batches of one table's rows and encodes the valid ones for COPY: the loop shared
 * by the reading thread and the validation workers, so both produce the same bytes.
 */
export class BatchValidation {
  readonly validator: RowValidator;
  private readonly rows?: CopyBinaryRows;
  /** Cells read as UTF-8 bytes are their bytes: unchanged ones are copied from their source. */
  private readonly bytesOfCells: boolean;

  constructor(
    setup: TableSetup,
    /** Leave unique values and primary keys to the caller, as claims (see RowValidator). */
    private readonly uniquenessElsewhere = false,
  ) {
    const { schema, columnOfField, columnCount, utf8Bytes, lineage } = setup;
    this.validator = new RowValidator(schema, columnOfField, columnCount, utf8Bytes, uniquenessElsewhere);
    const positions = schema.fields.map((field) => columnOfField.get(field.name) ?? -1);
    if (lineage !== undefined) this.rows = new CopyBinaryRows(schema.fields, lineage, utf8Bytes, positions);
    this.bytesOfCells = utf8Bytes;
  }

  /** Validates a batch; with lineage, its valid rows are written to `output` (COPY binary). */
  validate(batch: RowBatch, onError: (error: RowError) => void, output?: CopyWriter): ValidatedBatch {
    const rows = output === undefined ? undefined : this.rows;
    const claims: RowClaim[] | undefined =
      this.uniquenessElsewhere && this.validator.checksUniqueness ? [] : undefined;
    const source =
      rows !== undefined && this.bytesOfCells && batch.source !== undefined
        ? { view: bytesView(batch.source), starts: batch.source.starts }
        : undefined;
    let valid = 0;
    for (const { rowNumber, cells, firstCell } of batch) {
      const result = this.validator.validate(cells, rowNumber);
      if (result.ok) {
        valid++;
        if (rows !== undefined) rows.write(result.values, rowNumber, output!, cells, source, firstCell);
        claims?.push(this.validator.claimOf(result.values, rowNumber));
      } else result.errors.forEach(onError);
    }
    return { valid, claims };
  }
}

/** The bytes of a batch's byte string (one character per byte): the run's own, or written again. */
function bytesView({ text, bytes }: NonNullable<RowBatch['source']>): DataView {
  if (bytes !== undefined) return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const written = Buffer.allocUnsafeSlow(text.length);
  written.write(text, 0, 'latin1');
  return new DataView(written.buffer);
}
