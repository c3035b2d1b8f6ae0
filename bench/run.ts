/**
 * `npm run bench`: ingestion speed and memory against PostgreSQL's own floor, measured in
 * the same run on the same machine. For 100k and 1M generated IRVE rows (about 5 % invalid):
 *   - psql \copy of the file into a table of text columns (the reference: PostgreSQL only
 *     parses CSV and writes rows);
 *   - datacycle: detect, decode, parse, validate every cell against the IRVE schema,
 *     normalise (geometries, booleans, dates), COPY into staging, load into the typed table;
 *   - `datacycle validate` alone (no database).
 * Results go to bench/results/ingest.json and docs/benchmarks.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { createPool, migrate, tableSchemaSchema } from '@datacycle/core';
import { ensurePostgres } from '../localcloud/postgres';
import { localDir, repoRoot } from '../localcloud/settings';
import { generateIrveCsv } from './irve-generator';
import { readFileSync } from 'node:fs';

const sizes = (process.env.BENCH_ROWS ?? '100000,1000000').split(',').map(Number);
const dataDir = path.join(localDir, 'bench');
const tsx = path.join(repoRoot, 'node_modules/.bin/tsx');

interface Measure {
  seconds: number;
  rows: number;
  maxRssMb: number;
}

function child(mode: 'load' | 'validate', file: string, table: string): Measure {
  const result = spawnSync(tsx, [path.join(repoRoot, 'bench/measure-load.ts'), file, table, mode], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (result.status !== 0) throw new Error(`${mode} failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as Measure;
}

function psqlCopy(url: string, file: string): Measure {
  const started = process.hrtime.bigint();
  const result = spawnSync(
    'psql',
    [
      url,
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      'TRUNCATE bench.irve_text',
      '-c',
      `\\copy bench.irve_text FROM '${file}' WITH (FORMAT csv, HEADER true)`,
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`psql \\copy failed: ${result.stderr}`);
  const rows = Number(/COPY (\d+)/.exec(result.stdout)?.[1] ?? 0);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, rows, maxRssMb: NaN };
}

async function main() {
  const url = await ensurePostgres();
  const pool = createPool(url);
  await migrate(pool);
  const schema = tableSchemaSchema.parse(
    JSON.parse(readFileSync(path.join(repoRoot, 'examples/territoires/schemas/irve-statique.json'), 'utf8')),
  );
  const columns = schema.fields.map((field) => `${pg.escapeIdentifier(field.name)} text`).join(', ');
  await pool.query(
    `CREATE SCHEMA IF NOT EXISTS bench; DROP TABLE IF EXISTS bench.irve_text; CREATE TABLE bench.irve_text (${columns})`,
  );
  await pool.end();
  mkdirSync(dataDir, { recursive: true });

  const results: BenchResult[] = [];
  for (const rows of sizes) {
    const file = path.join(dataDir, `irve-${rows}.csv`);
    if (!existsSync(file)) {
      process.stdout.write(`› generating ${rows} IRVE rows… `);
      const { invalid } = await generateIrveCsv(file, rows);
      console.log(`${invalid} invalid`);
    }
    const bytes = statSync(file).size;
    const table = `irve_${rows}`;
    child('load', file, table); // warm-up: the table exists and caches are warm, as for psql below
    const reference = psqlCopy(url, file);
    const load = child('load', file, table);
    const validate = child('validate', file, table);
    const rate = (m: Measure) => Math.round(m.rows / m.seconds);
    const result = {
      rows,
      megabytes: Math.round(bytes / 1e6),
      psqlCopy: { seconds: round(reference.seconds), rowsPerSecond: rate(reference) },
      datacycleLoad: { seconds: round(load.seconds), rowsPerSecond: rate(load), peakRssMb: load.maxRssMb },
      datacycleValidate: {
        seconds: round(validate.seconds),
        rowsPerSecond: rate(validate),
        peakRssMb: validate.maxRssMb,
      },
      loadVsPsqlCopy: round(rate(load) / rate(reference)),
    };
    console.log(JSON.stringify(result));
    results.push(result);
  }
  writeReport(results);
}

const round = (n: number) => Math.round(n * 100) / 100;

interface BenchResult {
  rows: number;
  megabytes: number;
  psqlCopy: { seconds: number; rowsPerSecond: number };
  datacycleLoad: { seconds: number; rowsPerSecond: number; peakRssMb: number };
  datacycleValidate: { seconds: number; rowsPerSecond: number; peakRssMb: number };
  loadVsPsqlCopy: number;
}

function writeReport(results: BenchResult[]) {
  const machine = `${process.platform} ${process.arch}, ${statSync('/proc/self').isDirectory() ? spawnSync('nproc', { encoding: 'utf8' }).stdout.trim() : '?'} cores, Node.js ${process.version}`;
  mkdirSync(path.join(repoRoot, 'bench/results'), { recursive: true });
  writeFileSync(
    path.join(repoRoot, 'bench/results/ingest.json'),
    JSON.stringify({ date: new Date().toISOString(), machine, results }, null, 2) + '\n',
  );
  const n = (value: number) => value.toLocaleString('en');
  const rows = results.map(
    (r) =>
      `| ${n(r.rows)} | ${r.megabytes} MB | ${r.psqlCopy.seconds} s (${n(r.psqlCopy.rowsPerSecond)} rows/s) | ${r.datacycleLoad.seconds} s (${n(r.datacycleLoad.rowsPerSecond)} rows/s) | **${r.loadVsPsqlCopy}×** | ${r.datacycleLoad.peakRssMb} MB | ${r.datacycleValidate.seconds} s (${n(r.datacycleValidate.rowsPerSecond)} rows/s), ${r.datacycleValidate.peakRssMb} MB |`,
  );
  const text = `# Benchmarks

Measured by \`npm run bench\` on ${machine}, ${new Date().toISOString().slice(0, 10)}.
Raw numbers: [bench/results/ingest.json](../bench/results/ingest.json).

## Ingestion: validate + load, against \`psql \\copy\`

Generated IRVE static files (schema v2.3.0, 40 columns, about 5 % invalid rows). The reference
is \`psql \\copy\` of the same file into a (logged) table of 40 text columns: PostgreSQL
parsing CSV and writing rows, nothing checked. (The typed table itself cannot be the
reference: \`coordonneesXY\` arrives as \`[lon,lat]\` text, which only datacycle turns
into a PostGIS point.) datacycle does that and more: detects the encoding and
delimiter, checks every cell against the schema (types, patterns, enums), normalises
values (geometry points, booleans, dates) and streams the valid rows through COPY into
the typed table (PostGIS geometry), all in one transaction.

| rows | file | psql \\copy (reference) | datacycle validate + load | ratio | peak RSS | \`datacycle validate\` alone |
|---|---|---|---|---|---|---|
${rows.join('\n')}

Goal (issue 3): ratio ≥ 0.7 and peak RSS < 256 MB at 1M rows.
`;
  writeFileSync(path.join(repoRoot, 'docs/benchmarks.md'), text);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
