import type { TableSchema } from './schema';

/** A header problem, named with the Frictionless error types. */
export interface LabelError {
  type: 'missing-label' | 'extra-label' | 'duplicate-label' | 'blank-label';
  /** 1-based column position in the file, when the label exists in the file. */
  fieldPosition?: number;
  label: string;
  message: string;
}

export interface HeaderCheck {
  valid: boolean;
  errors: LabelError[];
  /** For each schema field, the index of its column in the file (when present). */
  columnOfField: Map<string, number>;
}

/**
 * Compares a file's header with a Table Schema. Columns are matched by name, so a file
 * may order its columns freely; every schema field must be there and nothing else.
 */
export function checkHeader(header: readonly string[], schema: TableSchema): HeaderCheck {
  const errors: LabelError[] = [];
  const columnOfField = new Map<string, number>();
  const fieldNames = new Set(schema.fields.map((field) => field.name));
  const seen = new Map<string, number>();

  header.forEach((rawLabel, index) => {
    const label = rawLabel.trim();
    const position = index + 1;
    if (label === '') {
      errors.push({
        type: 'blank-label',
        fieldPosition: position,
        label,
        message: `column ${position} has no name`,
      });
      return;
    }
    const first = seen.get(label);
    if (first !== undefined) {
      errors.push({
        type: 'duplicate-label',
        fieldPosition: position,
        label,
        message: `column "${label}" appears twice (columns ${first + 1} and ${position})`,
      });
      return;
    }
    seen.set(label, index);
    if (fieldNames.has(label)) columnOfField.set(label, index);
    else
      errors.push({
        type: 'extra-label',
        fieldPosition: position,
        label,
        message: `column "${label}" (column ${position}) is not in the schema`,
      });
  });

  for (const field of schema.fields) {
    if (!columnOfField.has(field.name)) {
      errors.push({ type: 'missing-label', label: field.name, message: `column "${field.name}" is missing` });
    }
  }
  return { valid: errors.length === 0, errors, columnOfField };
}
