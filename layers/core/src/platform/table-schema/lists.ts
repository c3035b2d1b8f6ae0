/**
 * A Table Schema list that may be written as one name (primaryKey, foreign key fields).
 * Apart from the schema's zod definitions so that validation workers need not load zod.
 */
export function asList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : value;
}
