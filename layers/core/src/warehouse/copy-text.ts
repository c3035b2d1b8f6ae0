/**
 * Encodes one row in PostgreSQL's COPY text format: tab-separated, `\N` for NULL,
 * backslash escapes for the four characters that would break the format.
 */
export function copyTextLine(values: readonly (string | number | null)[]): string {
  return copyTextFields(values) + '\n';
}

/** The fields of a row in COPY text format, without the line end. */
export function copyTextFields(values: readonly (string | number | null)[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += '\t';
    const value = values[i];
    if (value === null || value === undefined) line += '\\N';
    else line += typeof value === 'number' ? String(value) : escapeCopyText(value);
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
