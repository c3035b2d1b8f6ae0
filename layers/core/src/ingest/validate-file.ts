import type { Readable } from 'node:stream';
import { TerminalError } from '../errors';
import { openTables, type DataTable, type OpenOptions } from '../formats';
import { RowValidator, checkHeader, type LabelError, type TableSchema } from '../table-schema';
import { copyTextRow, lineageText, type Lineage } from '../warehouse';
import { toUtf8Bytes } from '../utf8-bytes';
import { ErrorCollector, type IngestReport } from './report';

/** Thrown by FileValidation.validRows when a table's header does not match the schema. */
export class HeaderMismatch extends Error {}

export type TableSummary = NonNullable<IngestReport['tables']>[number];

/**
 * The validation of one file against a Table Schema, shared by ingestion (which streams the
 * valid rows into COPY) and `datacycle validate` (which only counts them). Errors are counted
 * and the first ones of each type kept, so any file gives a bounded report.
 */
export class FileValidation {
  readonly collector = new ErrorCollector();
  readonly rows = { read: 0, valid: 0, invalid: 0, loaded: 0 };
  readonly tables: TableSummary[] = [];
  headerProblem?: string;

  constructor(
    private readonly schema: TableSchema,
    /** Named in messages, e.g. the dataset id. */
    private readonly subject: string,
  ) {}

  get dialect() {
    return this.tables.find((table) => table.dialect)?.dialect;
  }

  /**
   * Validates every table of the file (several for a zip of several files) and yields, for
   * each batch, its valid rows in COPY text format with their lineage (see TableLoad.copyText):
   * text, or its UTF-8 bytes for a table read as bytes (see DataTable.utf8Bytes).
   * Rows are encoded as soon as they are validated: nothing but the batch is held. Without
   * lineage (validation only), nothing is encoded and each batch yields ''; with it, batches
   * without a valid row yield nothing.
   */
  async *copyText(tables: AsyncIterable<DataTable>, lineage?: Lineage): AsyncGenerator<string | Buffer> {
    // In a plain batch only values written anew as JSON can hold characters to escape.
    const escapedWhenPlain = this.schema.fields.map((field) => JSON_TEXT_TYPES.has(field.type));
    for await (const table of tables) {
      this.tables.push({
        name: table.name,
        format: table.format,
        containers: table.containers,
        dialect: table.dialect,
        sheet: table.sheet,
      });
      const member = table.containers.includes('zip') ? { file: table.name } : {};
      const header = checkHeader(table.header, this.schema);
      if (!header.valid) {
        header.errors.forEach((error) => this.collector.add({ ...error, ...member }));
        this.headerProblem = describeHeaderErrors(header.errors, this.subject, member.file);
        throw new HeaderMismatch(this.headerProblem);
      }
      const bytes = table.utf8Bytes === true;
      const validator = new RowValidator(this.schema, header.columnOfField, table.header.length, bytes);
      // A table read as UTF-8 bytes is encoded as bytes, its lineage too (a key may hold "é").
      const lineageCells = lineage ? lineageText(lineage) : undefined;
      const between = bytes && lineageCells !== undefined ? toUtf8Bytes(lineageCells) : lineageCells;
      for await (const batch of table.batches) {
        let text = '';
        let valid = 0;
        for (const { rowNumber, cells } of batch) {
          const result = validator.validate(cells, rowNumber);
          if (result.ok) {
            valid++;
            if (between !== undefined)
              text += copyTextRow(
                result.values,
                between,
                rowNumber,
                batch.plain ? escapedWhenPlain : undefined,
              );
          } else result.errors.forEach((error) => this.collector.add({ ...error, ...member }));
        }
        this.rows.read += batch.length;
        this.rows.valid += valid;
        this.rows.invalid += batch.length - valid;
        if (between === undefined) yield '';
        else if (text !== '') yield bytes ? Buffer.from(text, 'latin1') : text;
      }
    }
  }
}

/** Field types whose values are normalized to JSON text (JSON.stringify may write backslashes). */
const JSON_TEXT_TYPES = new Set(['object', 'array', 'geojson']);

export function describeHeaderErrors(errors: LabelError[], subject: string, file?: string): string {
  const missing = errors.filter((e) => e.type === 'missing-label').map((e) => e.label);
  const extra = errors.filter((e) => e.type === 'extra-label').map((e) => e.label);
  const parts = [
    missing.length ? `missing columns: ${missing.join(', ')}` : '',
    extra.length ? `unexpected columns: ${extra.join(', ')}` : '',
    errors.some((e) => e.type === 'duplicate-label' || e.type === 'blank-label')
      ? 'duplicate or blank column names'
      : '',
  ].filter(Boolean);
  return `header${file ? ` of ${file}` : ''} does not match the schema of ${subject}: ${parts.join('; ')}`;
}

export interface ValidationResult {
  valid: boolean;
  summary: string;
  rows: FileValidation['rows'];
  errorCounts: Record<string, number>;
  errors: IngestReport['errors'];
  tables: TableSummary[];
}

/** Validates a whole file offline (no database): the engine of `datacycle validate`. */
export async function validateFile(
  input: Readable,
  schema: TableSchema,
  options: OpenOptions & { subject?: string; onProgress?: (rowsRead: number) => void },
): Promise<ValidationResult> {
  const validation = new FileValidation(schema, options.subject ?? options.name);
  const result = (summary: string): ValidationResult => ({
    valid: validation.collector.total === 0 && validation.rows.read > 0,
    summary,
    rows: validation.rows,
    errorCounts: validation.collector.counts,
    errors: validation.collector.kept,
    tables: validation.tables,
  });
  try {
    let next = 100_000;
    const tables = openTables(input, { ...options, csv: { ...options.csv, utf8Bytes: true } });
    for await (const _text of validation.copyText(tables)) {
      void _text;
      if (options.onProgress && validation.rows.read >= next) {
        options.onProgress(validation.rows.read);
        next += 100_000;
      }
    }
  } catch (error) {
    if (error instanceof HeaderMismatch) return result(error.message);
    if (error instanceof TerminalError) {
      validation.collector.add({ type: 'file-error', message: error.message, hint: error.hint });
      return result(error.message);
    }
    throw error;
  }
  const { read, invalid } = validation.rows;
  if (read === 0) {
    validation.collector.add({ type: 'file-error', message: 'the file has a header but no data rows' });
    return result('the file has no data rows');
  }
  return result(invalid === 0 ? `all ${read} rows are valid` : `${invalid} of ${read} rows are invalid`);
}
