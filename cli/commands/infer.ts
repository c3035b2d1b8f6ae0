import { createReadStream } from 'node:fs';
import path from 'node:path';
import { SchemaInference, eachRow, openTables } from '@datacycle/core/validation';
import { parseArgs } from '../args';

/** `datacycle infer <file> [--rows N]`: prints a draft Table Schema for the file. */
export async function inferCommand(args: string[]): Promise<number> {
  const { positional, flags } = parseArgs(args);
  const file = positional[0];
  if (!file) {
    console.error('usage: datacycle infer <file> [--rows 100000]');
    return 2;
  }
  const limit = Number(flags.get('rows') ?? 100_000);
  for await (const table of openTables(createReadStream(file), { name: path.basename(file) })) {
    const inference = new SchemaInference(table.header);
    let rows = 0;
    for await (const row of eachRow(table)) {
      inference.add(row.cells);
      if (++rows >= limit) break;
    }
    const schema = {
      $schema: 'https://specs.frictionlessdata.io/schemas/table-schema.json',
      name: path.basename(file).replace(/\..*$/, ''),
      description: `Drafted by datacycle infer from ${rows} rows of ${path.basename(file)}: review before use.`,
      fields: inference
        .fields()
        .map((field) => (field.format === 'default' ? { ...field, format: undefined } : field)),
      missingValues: [''],
    };
    console.log(JSON.stringify(schema, null, 2));
    return 0;
  }
  return 1;
}
