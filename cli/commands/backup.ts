import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { createPool, restoreDatabase } from '@datacycle/core';
import { parseArgs } from '../args';
import { databaseUrl } from '../database';
import { deployedStack } from '../stack';

/** `datacycle backup`: runs the deployed backup function now, prints where the backup went. */
export async function backupCommand(args: string[]): Promise<number> {
  const { flags } = parseArgs(args, ['aws']);
  const { outputs, clientConfig } = await deployedStack(flags);
  const response = await new LambdaClient(clientConfig).send(
    new InvokeCommand({ FunctionName: outputs.BackupFunctionName, Payload: '{}' }),
  );
  const payload = new TextDecoder().decode(response.Payload);
  if (response.FunctionError) {
    console.error(`the backup failed: ${payload}`);
    return 1;
  }
  const summary = JSON.parse(payload) as { prefix: string; tables: number; rows: number; bytes: number };
  console.log(
    `backup s3://${outputs.InternalBucket}/${summary.prefix}: ${summary.tables} tables, ${summary.rows} rows, ${(summary.bytes / 1e6).toFixed(1)} MB compressed`,
  );
  console.log(`restore it into an empty database: datacycle restore ${summary.prefix} --into <database url>`);
  return 0;
}

/**
 * `datacycle restore <backups/…/> [--into <database url>]`: restores a backup of the deployed
 * stack's internal bucket into an empty database (default: DATABASE_URL).
 */
export async function restoreCommand(args: string[]): Promise<number> {
  const { positional, flags } = parseArgs(args, ['aws']);
  const prefix = positional[0];
  if (!prefix || !/^backups\/[^/]+\/$/.test(prefix)) {
    console.error('usage: datacycle restore backups/<stamp>/ [--into <database url>] [--aws --stack <name>]');
    return 2;
  }
  const { outputs, clientConfig } = await deployedStack(flags);
  const into = typeof flags.get('into') === 'string' ? String(flags.get('into')) : databaseUrl();
  const pool = createPool(into);
  try {
    const manifest = await restoreDatabase(pool, new S3Client(clientConfig), {
      bucket: outputs.InternalBucket,
      prefix,
    });
    const rows = manifest.tables.reduce((total, table) => total + table.rows, 0);
    console.log(
      `restored ${manifest.tables.length} tables (${rows} rows, checksums verified) of ${manifest.createdAt} into ${into.replace(/:[^:@/]+@/, ':***@')}`,
    );
    return 0;
  } finally {
    await pool.end();
  }
}
