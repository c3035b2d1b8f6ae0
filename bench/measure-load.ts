/**
 * One measurement, in its own process so that its peak RSS is its own (bench/run.ts bundles
 * this file like a function and runs it with the functions' Node.js options):
 *   node measure-load.cjs <file> <schema.json> <table> load     — validate + COPY + load (replace)
 *   node measure-load.cjs <file> <schema.json> <table> validate — validation alone, no database
 *   node measure-load.cjs <file> <schema.json> <out> parse      — reading and CSV parsing alone
 *   node measure-load.cjs <file> <schema.json> <out> encode     — validation, COPY text written to <out>
 *   node measure-load.cjs - <schema.json> <format> export        — export raw.irve_statique in one format
 *     (DATABASE_URL, BENCH_BUCKET and the AWS endpoint come from the environment)
 * Prints one JSON line: { seconds, rows, maxRssMb }.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import path from 'node:path';
import {
  FileValidation,
  copyTextFields,
  createPool,
  inTransaction,
  loadTable,
  openTables,
  publishOutput,
  createS3Client,
  type ExportFormat,
  tableSchemaSchema,
  validateFile,
} from '@datacycle/core';

type Mode = 'load' | 'validate' | 'parse' | 'encode' | 'export';

async function main() {
  const [file, schemaFile, table, mode] = process.argv.slice(2) as [string, string, string, Mode];
  const schema = tableSchemaSchema.parse(JSON.parse(readFileSync(schemaFile, 'utf8')));
  const started = process.hrtime.bigint();
  let rows: number;

  const open = () => openTables(createReadStream(file), { name: path.basename(file) });
  if (mode === 'export') {
    const pool = createPool(process.env.DATABASE_URL!);
    const publication = await publishOutput(
      { pool, s3: createS3Client(), bucket: process.env.BENCH_BUCKET! },
      {
        kind: 'dataset',
        name: 'irve-statique',
        relation: { schema: 'raw', name: 'irve_statique' },
        title: 'IRVE (bench)',
        licence: 'etalab-2.0',
        formats: [table as ExportFormat],
        csv: { delimiter: ',', bom: false },
        tableSchema: schema,
      },
      `bench-${table}`,
    );
    rows = publication.rows;
    await pool.end();
  } else if (mode === 'validate') {
    const result = await validateFile(createReadStream(file), schema, { name: path.basename(file) });
    rows = result.rows.read;
  } else if (mode === 'parse') {
    rows = 0;
    for await (const parsed of open()) for await (const batch of parsed.batches) rows += batch.length;
  } else if (mode === 'encode') {
    // The rows exactly as loadTable sends them, for `psql \copy` into the typed table.
    const validation = new FileValidation(schema, 'bench');
    const lineage = `\t${crypto.randomUUID()}\t${path.basename(file)}\t`;
    const out = createWriteStream(table);
    for await (const batch of validation.validBatches(open())) {
      let text = '';
      for (const row of batch) text += copyTextFields(row.values) + lineage + row.rowNumber + '\n';
      if (!out.write(text)) await once(out, 'drain');
    }
    out.end();
    await finished(out);
    rows = validation.rows.read;
  } else {
    const pool = createPool(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/datacycle');
    const validation = new FileValidation(schema, 'bench');
    await inTransaction(pool, async (client) => {
      await loadTable(client, {
        schemaName: process.env.BENCH_SCHEMA ?? 'bench',
        table,
        tableSchema: schema,
        mode: 'replace',
        loadId: crypto.randomUUID(),
        sourceKey: path.basename(file),
        batches: validation.validBatches(open()),
      });
    });
    rows = validation.rows.read;
    await pool.end();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ seconds, rows, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
