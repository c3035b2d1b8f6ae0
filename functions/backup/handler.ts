import { backupDatabase, lambdaHandler, zoneKeys } from '@datacycle/core';

/**
 * On its schedule (or invoked): backs up the raw, enriched and ops schemas to
 * backups/<UTC stamp>/ in the internal bucket, where a lifecycle rule keeps them 35 days.
 * Restore with `datacycle restore <prefix>` into an empty database.
 */
export const handler = lambdaHandler('backup', async (_event: unknown, { platform, log }) => {
  const prefix = zoneKeys.backup(new Date());
  const manifest = await backupDatabase(await platform.pool(), platform.s3, {
    bucket: platform.buckets.internal,
    prefix,
  });
  const summary = {
    prefix,
    tables: manifest.tables.length,
    rows: manifest.tables.reduce((total, table) => total + table.rows, 0),
    bytes: manifest.tables.reduce((total, table) => total + table.bytes, 0),
  };
  log.info('backed up', summary);
  return summary;
});
