import type { Readable } from 'node:stream';
import type ExcelJS from 'exceljs';
import { TerminalError } from '../errors/errors';
import { cellText, inBatches, type DataTable, type TableRow } from './table';

type Describe = Omit<DataTable, 'header' | 'batches' | 'sheet'>;

/** The value a spreadsheet shows: a formula's result, a rich text's text, a link's text. */
function shownValue(value: ExcelJS.CellValue): unknown {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value;
  if (typeof value !== 'object') return value;
  if ('formula' in value || 'sharedFormula' in value)
    return shownValue((value as ExcelJS.CellFormulaValue).result ?? '');
  if ('richText' in value) return value.richText.map((part) => part.text).join('');
  if ('hyperlink' in value) return (value as ExcelJS.CellHyperlinkValue).text;
  if ('error' in value) return (value as ExcelJS.CellErrorValue).error;
  return value;
}

/** What exceljs throws on a workbook it cannot make sense of, as an error the user can act on. */
async function readingWorkbook<T>(step: Promise<T>): Promise<T> {
  try {
    return await step;
  } catch (error) {
    if (error instanceof TerminalError) throw error;
    throw new TerminalError(
      `the workbook could not be read: ${(error as Error).message}`,
      'open it in a spreadsheet program and save it again as .xlsx, or export the sheet as CSV',
    );
  }
}

/**
 * Streams one sheet of an XLSX workbook (the first, or `sheet`: a 1-based number or a name).
 * Dates come out as dates (exceljs applies the cell's number format), not serial numbers.
 */
export async function openXlsx(
  input: Readable,
  describe: Describe,
  sheet: string | number = 1,
): Promise<DataTable> {
  // Loaded on first use: exceljs adds ~28 MB to a process that never reads a spreadsheet.
  const { default: excel } = await import('exceljs');
  const workbook = new excel.stream.xlsx.WorkbookReader(input, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    styles: 'cache',
    hyperlinks: 'ignore',
    entries: 'ignore',
  });
  const sheets = workbook[Symbol.asyncIterator]();
  let index = 0;
  let worksheet: ExcelJS.stream.xlsx.WorksheetReader | undefined;
  const seen: string[] = [];
  for (;;) {
    const next = await readingWorkbook(sheets.next());
    if (next.done) break;
    index++;
    const name = (next.value as unknown as { name?: string }).name ?? `sheet ${index}`;
    seen.push(name);
    if (sheet === index || sheet === name) {
      worksheet = next.value;
      break;
    }
    // Drain a sheet we do not read, so the reader moves on.
    const drained = next.value[Symbol.asyncIterator]();
    while (!(await readingWorkbook(drained.next())).done);
  }
  if (!worksheet) {
    throw new TerminalError(
      `the workbook has no sheet ${JSON.stringify(sheet)} (sheets: ${seen.join(', ') || 'none'})`,
      'set format.sheet in the dataset file',
    );
  }
  const rowIterator = worksheet[Symbol.asyncIterator]();
  const toCells = (row: ExcelJS.Row) => {
    // row.values is sparse (holes for empty cells) and 1-based: Array.from visits the holes.
    return Array.from((row.values as ExcelJS.CellValue[]).slice(1), (value) =>
      cellText(shownValue(value)).trim(),
    );
  };
  let header: string[] = [];
  for (;;) {
    const next = await readingWorkbook(rowIterator.next());
    if (next.done) break;
    const cells = toCells(next.value);
    if (cells.some((cell) => cell !== '')) {
      header = cells;
      break;
    }
  }
  async function* rows(): AsyncGenerator<TableRow> {
    for (;;) {
      const next = await readingWorkbook(rowIterator.next());
      if (next.done) return;
      const cells = toCells(next.value);
      // Keep the header's width: a row whose last cells are empty is shorter in the file.
      while (cells.length < header.length) cells.push('');
      yield { rowNumber: next.value.number, cells };
    }
  }
  return { ...describe, sheet: seen[seen.length - 1], header, batches: inBatches(rows()) };
}
