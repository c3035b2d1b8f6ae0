/**
 * One measurement, in its own process so that its peak RSS is its own:
 *   tsx bench/measure-load.ts <file> <table> load   — datacycle's validate + COPY + load
 *   tsx bench/measure-load.ts <file> <table> validate — validation alone, no database
 * Prints one JSON line: { seconds, rows, maxRssMb }.
 */
import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  FileValidation,
  createPool,
  inTransaction,
  loadTable,
  openTables,
  tableSchemaSchema,
  validateFile,
} from '@datacycle/core';

const [file, table, mode] = process.argv.slice(2) as [string, string, 'load' | 'validate'];
const root = path.resolve(import.meta.dirname, '..');
const schema = tableSchemaSchema.parse(
  JSON.parse(readFileSync(path.join(root, 'examples/territoires/schemas/irve-statique.json'), 'utf8')),
);
const started = process.hrtime.bigint();
let rows: number;

if (mode === 'validate') {
  const result = await validateFile(createReadStream(file), schema, { name: path.basename(file) });
  rows = result.rows.read;
} else {
  const pool = createPool(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/datacycle');
  const validation = new FileValidation(schema, 'bench');
  await inTransaction(pool, async (client) => {
    await loadTable(client, {
      schemaName: 'bench',
      table,
      tableSchema: schema,
      mode: 'replace',
      loadId: crypto.randomUUID(),
      sourceKey: path.basename(file),
      rows: validation.validRows(openTables(createReadStream(file), { name: path.basename(file) })),
    });
  });
  rows = validation.rows.read;
  await pool.end();
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(JSON.stringify({ seconds, rows, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }));
