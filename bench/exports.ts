/**
 * The exports part of `npm run bench` (issue 22): each format of the 1M-row IRVE table
 * streamed into the public bucket of the local cloud, against references measured in the
 * same run on the same table:
 *   - `psql \copy (SELECT …) TO` a local file (CSV, PostgreSQL's own floor): the goals are
 *     ratios to it, each export written into a local file too (then, beside, into the bucket);
 *   - DuckDB reading the table through its postgres extension and writing Parquet, and
 *     GeoJSON through its spatial extension (GDAL's driver) — pinned in bench/requirements.txt;
 *   - ogr2ogr (Debian's gdal-bin) writing GeoJSON (its Parquet driver needs a GDAL built with
 *     Arrow, which Debian's is not: reported as such).
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { ensureVenv } from '../test/helpers/conformance';
import { awsLocalEnvironment, exampleProjectDir, localDir, packageRoot } from '../localcloud/settings';
import { up } from '../localcloud/up';
import { FUNCTION_ENVIRONMENT } from '../cdk/constructs/datacycle-function';
import { stopLocalstack } from '../localcloud/localstack';

export const exportGoals = { csv: 0.9, geojson: 0.5, parquet: 0.5, xlsx: 0.25 } as const;
export const EXPORT_RSS_GOAL_MB = 256;

export interface ExportBench {
  rows: number;
  /** psql \copy (SELECT …) TO a local file, of the same rows: PostgreSQL's own floor (median of all rounds). */
  psqlCopyOut: { seconds: number; rowsPerSecond: number };
  formats: {
    format: string;
    /** The export written into a local file (hashed), as psql's: the goal's measure. */
    seconds: number;
    rowsPerSecond: number;
    peakRssMb: number;
    /** The reference, measured in turns with this format's export (median of its rounds; absent from older results). */
    psqlSeconds?: number;
    vsPsql: number;
    /** The same streamed into the local cloud's bucket, until stored under its version. */
    bucketSeconds?: number;
    /** The whole publication: the file in the bucket, its copy to latest/, the data package. */
    publishSeconds?: number;
    bucketPeakRssMb?: number;
  }[];
  /** Other tools writing the same rows in the same format; seconds null when not available here. */
  references?: {
    tool: string;
    format: string;
    seconds: number | null;
    note?: string;
    datacycleVs?: number;
  }[];
}

const round = (n: number) => Math.round(n * 100) / 100;
const medianOf = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function timed(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { encoding: 'utf8', env, maxBuffer: 16 << 20 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** ogr2ogr from Debian's gdal-bin, installed when missing and the machine allows it. */
function ensureOgr2ogr(): string | undefined {
  if (spawnSync('ogr2ogr', ['--version']).status === 0) return 'ogr2ogr';
  if (process.getuid?.() === 0) {
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
    spawnSync('apt-get', ['install', '-y', '-qq', 'gdal-bin'], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
  return spawnSync('ogr2ogr', ['--version']).status === 0 ? 'ogr2ogr' : undefined;
}

/** The DuckDB script of one export: the table read through the postgres extension. */
function duckdbScript(libpq: string, format: 'parquet' | 'geojson', file: string): string {
  const to =
    format === 'parquet' ? `'${file}' (FORMAT parquet)` : `'${file}' WITH (FORMAT GDAL, DRIVER 'GeoJSON')`;
  return `
from duckdb_extensions import import_extension
import duckdb
import_extension('postgres_scanner'); import_extension('spatial')
connection = duckdb.connect()
connection.sql("LOAD postgres; LOAD spatial")
connection.sql("ATTACH '${libpq}' AS pg (TYPE postgres, READ_ONLY)")
connection.sql("""COPY (SELECT * EXCLUDE (_load_id, _source_key, _row_number, _loaded_at) FROM pg.raw.irve_statique) TO ${to}""")
`;
}

/** libpq's key=value form of a postgres:// URL (DuckDB's ATTACH and GDAL's PG: take it). */
function libpqOf(url: string): string {
  const parsed = new URL(url);
  const parts = [
    `host=${parsed.hostname}`,
    `port=${parsed.port || '5432'}`,
    `dbname=${parsed.pathname.slice(1)}`,
    `user=${decodeURIComponent(parsed.username || 'postgres')}`,
  ];
  if (parsed.password) parts.push(`password=${decodeURIComponent(parsed.password)}`);
  return parts.join(' ');
}

export async function benchExports(measureBundle: string, baseUrl: string): Promise<ExportBench> {
  // The bucket exports need the deployed stack (a no-op when it is up).
  const bucket = (await up(exampleProjectDir)).outputs.PublicBucket;
  const env = awsLocalEnvironment();
  const url = baseUrl.replace(/\/[^/?]+(\?|$)/, '/datacycle_bench$1');
  const schemaFile = path.join(packageRoot, 'examples/territoires/schemas/irve-statique.json');
  const spool = path.join(localDir, 'bench');
  const psqlFile = path.join(spool, 'psql-export.csv');
  const copyOut = `\\copy (SELECT * FROM raw.irve_statique) TO '${psqlFile}' WITH (FORMAT csv, HEADER true)`;
  const psqlRun = () => timed('psql', [url, '-v', 'ON_ERROR_STOP=1', '-c', copyOut]);
  const copy = spawnSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-c', copyOut], { encoding: 'utf8' });
  if (copy.status !== 0) throw new Error(`psql \\copy out failed: ${copy.stderr}`);
  const rows = Number(/COPY (\d+)/.exec(copy.stdout)?.[1] ?? 0);
  const rate = (seconds: number) => Math.round(rows / seconds);
  const measure = (format: string, mode: 'export' | 'export-file') => {
    const result = spawnSync(process.execPath, [measureBundle, '-', schemaFile, format, mode], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
      // As the publish function runs it (its Node.js options and allocator setting).
      env: { ...process.env, ...FUNCTION_ENVIRONMENT, ...env, DATABASE_URL: url, BENCH_BUCKET: bucket },
    });
    if (result.status !== 0) throw new Error(`${mode} ${format} failed: ${result.stderr}`);
    return JSON.parse(result.stdout.trim().split('\n').pop()!) as {
      seconds: number;
      fileSeconds?: number;
      maxRssMb: number;
    };
  };
  const formatNames = ['csv', 'geojson', 'parquet', 'xlsx'] as const;
  // Into the bucket first, while the local cloud runs.
  const stored = new Map(formatNames.map((format) => [format, measure(format, 'export')]));
  // Then the goals' measures, on a quiet machine as the ingestion's: an idle LocalStack takes
  // about a tenth of a core. Each format and the reference take turns, 3 rounds, and each
  // side's median round is kept: the machine's speed drifts (one single run swung by 30 %).
  await stopLocalstack();
  const formats: ExportBench['formats'] = [];
  const psqlAll: number[] = [];
  for (const format of formatNames) {
    const theirs: number[] = [];
    const exported: { seconds: number; maxRssMb: number }[] = [];
    for (let round = 0; round < 3; round++) {
      theirs.push(psqlRun());
      exported.push(measure(format, 'export-file'));
    }
    psqlAll.push(...theirs);
    const psqlSeconds = medianOf(theirs);
    const file = exported.sort((a, b) => a.seconds - b.seconds)[1]!;
    const bucketed = stored.get(format)!;
    formats.push({
      format,
      seconds: round(file.seconds),
      rowsPerSecond: rate(file.seconds),
      peakRssMb: file.maxRssMb,
      psqlSeconds: round(psqlSeconds),
      vsPsql: round(psqlSeconds / file.seconds),
      bucketSeconds: round(bucketed.fileSeconds ?? NaN),
      publishSeconds: round(bucketed.seconds),
      bucketPeakRssMb: bucketed.maxRssMb,
    });
    console.log(JSON.stringify(formats[formats.length - 1]));
  }
  rmSync(psqlFile, { force: true });
  const psqlSeconds = medianOf(psqlAll);

  const references: NonNullable<ExportBench['references']> = [];
  const ours = (format: string) => formats.find((entry) => entry.format === format)!.seconds;
  const python = await ensureVenv(
    path.join(localDir, 'bench-venv'),
    path.join(packageRoot, 'bench/requirements.txt'),
  );
  const duckdbVersion = spawnSync(python, ['-c', 'import duckdb; print(duckdb.__version__)'], {
    encoding: 'utf8',
  }).stdout.trim();
  for (const format of ['parquet', 'geojson'] as const) {
    const file = path.join(spool, `duckdb-export.${format}`);
    rmSync(file, { force: true });
    const seconds = timed(python, ['-c', duckdbScript(libpqOf(url), format, file)]);
    rmSync(file, { force: true });
    references.push({
      tool: `DuckDB ${duckdbVersion} (postgres extension)`,
      format,
      seconds: round(seconds),
      datacycleVs: round(seconds / ours(format)),
    });
    console.log(JSON.stringify(references[references.length - 1]));
  }
  const ogr2ogr = ensureOgr2ogr();
  const gdalVersion = ogr2ogr
    ? spawnSync(ogr2ogr, ['--version'], { encoding: 'utf8' }).stdout.split(',')[0]!.trim()
    : 'GDAL';
  const drivers = ogr2ogr ? spawnSync(ogr2ogr, ['--formats'], { encoding: 'utf8' }).stdout : '';
  for (const [format, driver] of [
    ['geojson', 'GeoJSON'],
    ['parquet', 'Parquet'],
  ] as const) {
    const tool = `ogr2ogr (${gdalVersion})`;
    if (!ogr2ogr) {
      references.push({ tool, format, seconds: null, note: 'gdal-bin is not installed' });
      continue;
    }
    if (!new RegExp(`^\\s*${driver} `, 'm').test(drivers)) {
      references.push({ tool, format, seconds: null, note: `no ${driver} driver in this GDAL build` });
      continue;
    }
    const file = path.join(spool, `ogr2ogr-export.${format}`);
    rmSync(file, { force: true });
    const seconds = timed(ogr2ogr, [
      '-f',
      driver,
      file,
      `PG:${libpqOf(url)}`,
      '-sql',
      'SELECT * FROM raw.irve_statique',
    ]);
    rmSync(file, { force: true });
    references.push({ tool, format, seconds: round(seconds), datacycleVs: round(seconds / ours(format)) });
    console.log(JSON.stringify(references[references.length - 1]));
  }
  return {
    rows,
    psqlCopyOut: { seconds: round(psqlSeconds), rowsPerSecond: rate(psqlSeconds) },
    formats,
    references,
  };
}
