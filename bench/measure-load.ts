/**
 * One measurement, in its own process so that its peak RSS is its own (bench/run.ts bundles
 * this file like a function and runs it with the functions' Node.js options):
 *   node measure-load.cjs <file> <schema.json> <table> load     — validate + COPY + load (replace)
 *   node measure-load.cjs <file> <schema.json> <table> validate — validation alone, no database
 *   node measure-load.cjs <file> <schema.json> <out> parse      — reading and CSV parsing alone
 *   node measure-load.cjs <file> <schema.json> <out> encode     — validation, COPY binary written to <out>
 *   node measure-load.cjs - <schema.json> <format> export        — export raw.irve_statique in one format
 *   node measure-load.cjs - <schema.json> <format> export-file   — the same into a local file (no bucket)
 *     (DATABASE_URL, BENCH_BUCKET and the AWS endpoint come from the environment)
 * Prints one JSON line: { seconds, rows, maxRssMb, cpuSeconds } (and for a load,
 * postgresCpuSeconds: the CPU time of the PostgreSQL backend that ran it, when local; for an
 * export, fileSeconds: until the file was stored under its version, before latest/ and the
 * data package).
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { finished } from 'node:stream/promises';
import path from 'node:path';
import {
  COPY_BINARY_HEADER,
  COPY_BINARY_TRAILER,
  FileValidation,
  createPool,
  inTransaction,
  loadTable,
  openTables,
  publishOutput,
  createS3Client,
  type ExportFormat,
  type Output,
  type TableSchema,
  exportColumns,
  MeasuredStream,
  writeExport,
  tableSchemaSchema,
  validateFile,
  validationWorkers,
} from '@datacycle/core';
import { StartedValidationWorkers } from '@datacycle/core/validation-start';

type Mode = 'load' | 'validate' | 'parse' | 'encode' | 'export' | 'export-file';

async function main() {
  const [file, schemaFile, table, mode] = process.argv.slice(2) as [string, string, string, Mode];
  const schema = tableSchemaSchema.parse(JSON.parse(readFileSync(schemaFile, 'utf8')));
  const started = process.hrtime.bigint();
  let rows: number;
  let postgresCpuSeconds: number | undefined;
  let fileSeconds: number | undefined;

  // As ingestion opens them (UTF-8 CSV cells as bytes).
  const open = () =>
    openTables(createReadStream(file), { name: path.basename(file), csv: { utf8Bytes: true } });
  if (mode === 'export-file') {
    // The export alone, as psql writes its copy: into a local file (hashed, as for the bucket).
    const pool = createPool(process.env.DATABASE_URL!);
    const client = await pool.connect();
    const spool = mkdtempSync(path.join(tmpdir(), 'bench-export-'));
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const relation = { schema: 'raw', name: 'irve_statique' };
    const columns = await exportColumns(client, relation, schema);
    const measured = new MeasuredStream();
    const written = finished(measured.pipe(createWriteStream(path.join(spool, 'export'))));
    await writeExport(
      { client, relation: 'raw.irve_statique', columns, spool },
      { ...benchOutput(table as ExportFormat, schema), relation },
      'bench',
      table as ExportFormat,
      measured,
    );
    await written;
    measured.sha256();
    rows = Number(
      (await client.query<{ n: string }>('SELECT count(*) AS n FROM raw.irve_statique')).rows[0]!.n,
    );
    await client.query('COMMIT');
    client.release();
    rmSync(spool, { recursive: true, force: true });
    await pool.end();
  } else if (mode === 'export') {
    const pool = createPool(process.env.DATABASE_URL!);
    const publication = await publishOutput(
      {
        pool,
        s3: createS3Client(),
        bucket: process.env.BENCH_BUCKET!,
        // The export itself: the file written, hashed and stored in the bucket.
        onFile: () => (fileSeconds = Number(process.hrtime.bigint() - started) / 1e9),
      },
      benchOutput(table as ExportFormat, schema),
      `bench-${table}`,
    );
    rows = publication.rows;
    await pool.end();
  } else if (mode === 'validate') {
    const result = await validateFile(createReadStream(file), schema, {
      name: path.basename(file),
      fileBytes: statSync(file).size, // as `datacycle validate` does
    });
    rows = result.rows.read;
  } else if (mode === 'parse') {
    rows = 0;
    for await (const parsed of open()) for await (const batch of parsed.batches) rows += batch.length;
  } else if (mode === 'encode') {
    // The rows exactly as loadTable sends them (COPY binary), for `psql \copy` into the typed table.
    const validation = new FileValidation(schema, 'bench');
    const out = createWriteStream(table);
    out.write(COPY_BINARY_HEADER);
    for await (const chunk of validation.copyRows(open(), {
      loadId: crypto.randomUUID(),
      sourceKey: path.basename(file),
    })) {
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end(COPY_BINARY_TRAILER);
    await finished(out);
    rows = validation.rows.read;
  } else {
    // As the ingest function validates: its default workers, started ahead for a large file.
    const started = StartedValidationWorkers.forFile(statSync(file).size, validationWorkers());
    const pool = createPool(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/datacycle');
    const validation = new FileValidation(schema, 'bench', { started });
    await inTransaction(pool, async (client) => {
      await loadTable(client, {
        schemaName: process.env.BENCH_SCHEMA ?? 'bench',
        table,
        tableSchema: schema,
        mode: 'replace',
        copyRows: validation.copyRows(open(), {
          loadId: crypto.randomUUID(),
          sourceKey: path.basename(file),
        }),
        released: validation.released,
      });
      // The backend's CPU time so far (it only works for this load), read before it commits.
      const { rows: backend } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      postgresCpuSeconds = backendCpuSeconds(backend[0]!.pid);
    });
    rows = validation.rows.read;
    await started.close();
    await pool.end();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage();
  console.log(
    JSON.stringify({
      seconds,
      rows,
      maxRssMb: peakRssMb(),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      postgresCpuSeconds,
      fileSeconds,
    }),
  );
}

/** The output the export measures publish: the IRVE table in one format. */
function benchOutput(format: ExportFormat, schema: TableSchema): Output {
  return {
    kind: 'dataset',
    name: 'irve-statique',
    relation: { schema: 'raw', name: 'irve_statique' },
    title: 'IRVE (bench)',
    licence: 'etalab-2.0',
    formats: [format],
    csv: { delimiter: ',', bom: false },
    tableSchema: schema,
  };
}

/**
 * This process's peak resident memory. On Linux from VmHWM: getrusage's maxRSS survives exec,
 * so it would report the spawning process's size when that was larger.
 */
function peakRssMb(): number {
  try {
    const kilobytes = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kilobytes) return Math.round(Number(kilobytes) / 1024);
  } catch {
    // not Linux
  }
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** User + system CPU time of a local process, from /proc (undefined when PostgreSQL runs elsewhere). */
function backendCpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
