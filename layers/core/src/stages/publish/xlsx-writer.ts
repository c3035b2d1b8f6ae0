import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ExportColumn } from './columns';

/**
 * A streaming XLSX (SpreadsheetML) writer: the sheet's XML is generated row by row into a
 * streaming zip (yazl), so memory does not grow with the number of rows. Cells are typed:
 * numbers, booleans, dates and datetimes as date serials with a date format, text inline.
 */
export async function writeXlsxStream(
  rows: AsyncIterable<Record<string, unknown>>,
  columns: ExportColumn[],
  about: Record<string, string>,
  out: Writable,
): Promise<void> {
  const { ZipFile } = await import('yazl');
  const zip = new ZipFile();
  zip.addBuffer(Buffer.from(CONTENT_TYPES), '[Content_Types].xml');
  zip.addBuffer(Buffer.from(ROOT_RELS), '_rels/.rels');
  zip.addBuffer(Buffer.from(WORKBOOK), 'xl/workbook.xml');
  zip.addBuffer(Buffer.from(WORKBOOK_RELS), 'xl/_rels/workbook.xml.rels');
  zip.addBuffer(Buffer.from(STYLES), 'xl/styles.xml');
  zip.addReadStream(Readable.from(dataSheet(rows, columns)), 'xl/worksheets/sheet1.xml');
  zip.addBuffer(
    Buffer.from(
      sheet(
        Object.entries(about)
          .map(([key, value], index) => row(index + 1, [text(key), text(value)]))
          .join(''),
      ),
    ),
    'xl/worksheets/sheet2.xml',
  );
  zip.end();
  await pipeline(zip.outputStream, out);
}

async function* dataSheet(rows: AsyncIterable<Record<string, unknown>>, columns: ExportColumn[]) {
  const [head, tail] = sheet('\u0000', true).split('\u0000') as [string, string];
  yield head;
  yield row(
    1,
    columns.map((column) => text(column.name, STYLE_BOLD)),
  );
  let chunk = '';
  let number = 1;
  for await (const values of rows) {
    chunk += row(
      ++number,
      columns.map((column) => cell(values[column.name], column)),
    );
    if (chunk.length > 64 * 1024) {
      yield chunk;
      chunk = '';
    }
  }
  yield chunk + tail;
}

const STYLE_DATE = 1;
const STYLE_DATETIME = 2;
const STYLE_BOLD = 3;
const XLSX_CELL_LIMIT = 32_767;
const EXCEL_EPOCH = Date.UTC(1899, 11, 30);

function cell(value: unknown, column: ExportColumn): string {
  if (value === null || value === undefined) return '<c/>';
  switch (column.kind) {
    case 'integer':
    case 'number':
      return `<c><v>${Number(value)}</v></c>`;
    case 'boolean':
      return `<c t="b"><v>${value ? 1 : 0}</v></c>`;
    case 'date':
    case 'datetime': {
      const serial = (new Date(String(value)).getTime() - EXCEL_EPOCH) / 86_400_000;
      return `<c s="${column.kind === 'date' ? STYLE_DATE : STYLE_DATETIME}"><v>${serial}</v></c>`;
    }
    case 'geometry':
    case 'json': {
      const json = JSON.stringify(value);
      // A cell holds at most 32 767 characters: long geometries are in the GeoJSON export.
      return text(json.length <= XLSX_CELL_LIMIT ? json : '(too long for a cell: see the GeoJSON export)');
    }
    default:
      return text(String(value));
  }
}

function text(value: string, style?: number): string {
  return `<c t="inlineStr"${style ? ` s="${style}"` : ''}><is><t xml:space="preserve">${escapeXml(value)}</t></is></c>`;
}

/** A row with its number and each cell's reference (A1, B1…), which readers rely on. */
function row(number: number, cells: string[]): string {
  return `<row r="${number}">${cells.map((cell, index) => cell.replace('<c', `<c r="${columnLetters(index)}${number}"`)).join('')}</row>`;
}

function columnLetters(index: number): string {
  let letters = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26))
    letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters;
  return letters;
}

// eslint-disable-next-line no-control-regex -- these are exactly the characters XML 1.0 forbids
const xmlInvalid = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

function escapeXml(value: string): string {
  return (
    value
      // Characters XML 1.0 cannot carry at all.
      .replace(xmlInvalid, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
  );
}

const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

function sheet(data: string, frozenHeader = false): string {
  const views = frozenHeader
    ? '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
    : '';
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="${MAIN}">${views}<sheetData>${data}</sheetData></worksheet>`;
}

const CONTENT_TYPES = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>`;

const ROOT_RELS = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>`;

const WORKBOOK = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="${MAIN}" xmlns:r="${REL}"><sheets><sheet name="data" sheetId="1" r:id="rId1"/><sheet name="about" sheetId="2" r:id="rId2"/></sheets></workbook>`;

const WORKBOOK_RELS = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="${REL}/worksheet" Target="worksheets/sheet2.xml"/><Relationship Id="rId3" Type="${REL}/styles" Target="styles.xml"/></Relationships>`;

// Styles 1 and 2: dates and datetimes; 3: the bold header.
const STYLES = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="${MAIN}"><numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/><numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs></styleSheet>`;
