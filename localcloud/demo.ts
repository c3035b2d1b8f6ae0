/**
 * `npm start`: the example pipeline end to end on the local cloud. Drops the example files
 * of examples/territoires in the landing bucket, as a producer would, waits for the deployed
 * ingest function to load them (S3 event → SQS → Lambda on LocalStack) and prints a summary.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { localS3 } from './aws-clients';
import { SetupError } from './process';
import { repoRoot } from './settings';
import { up } from './up';

const drops = [
  { file: 'examples/territoires/data/departements.csv', prefix: 'departements/' },
  { file: 'examples/territoires/data/irve-statique-exemple.csv', prefix: 'irve-statique/' },
];

interface FileRow {
  dataset: string;
  source_key: string;
  status: string;
  rows_loaded: string;
  report_key: string;
  error: string | null;
  received_at: Date;
}

async function main() {
  const { outputs, databaseUrl, timings } = await up('examples/territoires');
  const s3 = localS3();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const keys: string[] = [];
  const droppedAt = Date.now();
  for (const drop of drops) {
    const key = `${drop.prefix}${stamp}-${path.basename(drop.file)}`;
    await s3.send(
      new PutObjectCommand({
        Bucket: outputs.LandingBucket,
        Key: key,
        Body: readFileSync(path.join(repoRoot, drop.file)),
      }),
    );
    keys.push(key);
  }
  console.log(
    `\n› dropped ${keys.length} files in s3://${outputs.LandingBucket}/ — waiting for the ingest function…`,
  );

  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const files = await waitForFiles(client, keys, 90_000);
    const latency = (Math.max(...files.map((f) => f.received_at.getTime())) - droppedAt) / 1000;
    console.log('\nDataset          Verdict     Rows  Table                 Report');
    for (const file of files) {
      const table = `raw.${file.dataset.replaceAll('-', '_')}`;
      const { rows } = await client.query<{ count: string }>(
        `SELECT count(*) FROM ${pg.escapeIdentifier('raw')}.${pg.escapeIdentifier(file.dataset.replaceAll('-', '_'))}`,
      );
      console.log(
        `${file.dataset.padEnd(16)} ${file.status.padEnd(9)} ${String(rows[0]?.count ?? 0).padStart(6)}  ${table.padEnd(21)} s3://${outputs.InternalBucket}/${file.report_key}`,
      );
      if (file.error) console.log(`  ↳ ${file.error}`);
    }
    console.log(`\ndrop-to-rows latency: ${latency.toFixed(1)} s (setup: ${timings.total?.toFixed(1)} s)`);
    console.log(
      'a "duplicate" verdict means the same content was already loaded by an earlier run: nothing loads twice.',
    );
    console.log(
      `explore: psql ${databaseUrl.replace(/:[^:@/]+@/, ':***@')} -c 'select * from ops.files order by id desc limit 5'`,
    );
    if (files.some((file) => file.status === 'rejected')) process.exitCode = 1;
  } finally {
    await client.end();
  }
}

async function waitForFiles(client: pg.Client, keys: string[], timeoutMs: number): Promise<FileRow[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { rows } = await client.query<FileRow>(
      'SELECT dataset, source_key, status, rows_loaded, report_key, error, received_at FROM ops.files WHERE source_key = ANY($1) ORDER BY dataset',
      [keys],
    );
    if (rows.length === keys.length) return rows;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new SetupError(
    `the ingest function did not record the dropped files within ${timeoutMs / 1000} s`,
    'look at .local/localstack/localstack.log and the ingest queue DLQ',
  );
}

main().catch((error: unknown) => {
  console.error(`\n✗ ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof SetupError && error.fix) console.error(`  fix: ${error.fix}`);
  process.exit(1);
});
