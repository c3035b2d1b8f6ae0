/**
 * The one quoting helper for SQL identifiers. Values never go through here: they are
 * always query parameters.
 */
export function quoteIdent(identifier: string): string {
  if (identifier.length === 0 || identifier.length > 63) {
    throw new Error(`invalid SQL identifier ${JSON.stringify(identifier)}: 1 to 63 characters`);
  }
  if (identifier.includes('\u0000')) throw new Error('invalid SQL identifier: NUL character');
  return `"${identifier.replaceAll('"', '""')}"`;
}

/** `schema.table`, both parts quoted. */
export function qualified(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/** Table name of a dataset in the raw schema: dashes become underscores. */
export function datasetTableName(datasetId: string): string {
  return datasetId.replaceAll('-', '_');
}
