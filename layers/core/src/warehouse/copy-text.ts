/**
 * Encodes one row in PostgreSQL's COPY text format: tab-separated, `\N` for NULL,
 * backslash escapes for the four characters that would break the format.
 */
export function copyTextLine(values: readonly (string | number | null)[]): string {
  return copyTextFields(values) + '\n';
}

/**
 * The fields of a row in COPY text format, without the line end. With `escaped`, only the
 * values it marks are checked for characters to escape: the caller knows the others hold
 * none (a plain batch, see RowBatch), which spares a check per cell.
 */
export function copyTextFields(
  values: readonly (string | number | null)[],
  escaped?: readonly boolean[],
): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += '\t';
    const value = values[i];
    if (value === null || value === undefined) line += '\\N';
    else if (typeof value === 'number') line += String(value);
    else line += escaped === undefined || escaped[i] ? escapeCopyText(value) : value;
  }
  return line;
}

const special = /[\\\t\n\r]/;

function escapeCopyText(text: string): string {
  if (!special.test(text)) return text;
  return text.replace(/[\\\t\n\r]/g, (char) =>
    char === '\\' ? '\\\\' : char === '\t' ? '\\t' : char === '\n' ? '\\n' : '\\r',
  );
}

/** Lineage written on every loaded row: which load, from which file (its row number comes with the row). */
export interface Lineage {
  loadId: string;
  sourceKey: string;
}

/** The text between a row's values and its row number: the lineage columns, already encoded. */
export function lineageText(lineage: Lineage): string {
  return `\t${copyTextFields([lineage.loadId, lineage.sourceKey])}\t`;
}

export interface ValidRow {
  rowNumber: number;
  /** Normalized values in schema field order (see RowValidator). */
  values: (string | null)[];
}

/** One loaded row's COPY line: its values, the lineage text (see lineageText), its row number. */
export function copyTextRow(
  values: readonly (string | null)[],
  lineage: string,
  rowNumber: number,
  escaped?: readonly boolean[],
): string {
  return copyTextFields(values, escaped) + lineage + rowNumber + '\n';
}

/** COPY text (see TableLoad.copyText) of rows already validated, a chunk per batch. */
export async function* copyTextOfRows(
  batches: AsyncIterable<ValidRow[]> | Iterable<ValidRow[]>,
  lineage: Lineage,
): AsyncGenerator<string> {
  const between = lineageText(lineage);
  for await (const batch of batches) {
    let text = '';
    for (const row of batch) text += copyTextRow(row.values, between, row.rowNumber);
    yield text;
  }
}
