/**
 * Fault: the local cloud restarted under the data. LocalStack keeps its state in memory and
 * PostgreSQL on disk, so a restart (`datacycle down` then `up`, or LocalStack killed) brings
 * back empty buckets over a database that remembers everything. `up` must bring every resource
 * back and the public outputs consistent with the database, lose nothing in PostgreSQL, and
 * leave a pipeline that loads the next file. Asserted on the database and the buckets; the
 * figures go to .local/faults/local-cloud-restart.json.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { stopLocalstack } from '../../localcloud/localstack';
import { up } from '../../localcloud/up';
import { exampleProjectDir } from '../../localcloud/settings';
import { irveExample } from '../helpers/projects';
import { localS3, objectExists, readStackOutputs, recordedFile, testPool } from '../helpers/local-cloud';
import { recordFigures } from './figures';

const pool = testPool();
const figures: Record<string, unknown> = {};
afterAll(async () => {
  recordFigures('local-cloud-restart', figures);
  await pool.end();
});

/** What PostgreSQL holds: every relation the project publishes, and the pipeline's records. */
async function databaseState() {
  const { rows } = await pool.query<{ relation: string; rows: number }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS relation,
       (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text::int AS rows
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ('raw', 'enriched') AND c.relkind IN ('r', 'm', 'v') ORDER BY 1`,
  );
  const { rows: files } = await pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM ops.files WHERE status = 'loaded'",
  );
  return { relations: rows, loadedFiles: files[0]!.n };
}

describe.each([
  ['stopped (datacycle down)', 'SIGTERM'],
  ['killed (SIGKILL)', 'SIGKILL'],
] as const)('the local cloud %s, then up', (_label, signal) => {
  it('brings every resource back, republishes from the database, loses nothing, loads the next file', async () => {
    const before = await databaseState();
    const outputsBefore = readStackOutputs();
    expect(await objectExists(localS3(), outputsBefore.PublicBucket, 'catalog/catalog.jsonld')).toBe(true);

    expect(await stopLocalstack(signal)).toBe(true);
    const started = Date.now();
    const { outputs, restoration } = await up(exampleProjectDir);
    const seconds = (Date.now() - started) / 1000;

    // The public side, rebuilt: the catalog, the portal, and each output's latest data package.
    const s3 = localS3();
    expect(restoration.republished.length).toBeGreaterThan(0);
    for (const key of ['catalog/catalog.jsonld', 'catalog/catalog.ttl', 'portal/index.html'])
      expect(await objectExists(s3, outputs.PublicBucket, key), key).toBe(true);
    for (const name of restoration.republished)
      expect(
        await objectExists(s3, outputs.PublicBucket, `exports/${name}/latest/datapackage.json`),
        name,
      ).toBe(true);
    const { rows: runs } = await pool.query<{ status: string }>(
      "SELECT status FROM ops.run_steps WHERE run_id = $1 AND step = 'publish'",
      [restoration.runId],
    );
    expect(runs.map((run) => run.status)).toEqual(['succeeded']);

    // Nothing lost, nothing doubled in PostgreSQL.
    expect(await databaseState()).toEqual(before);

    // The pipeline works again: a new file dropped is loaded once.
    const key = `irve-statique/after-restart-${randomUUID().slice(0, 8)}.csv`;
    await s3.send(
      new PutObjectCommand({
        Bucket: outputs.LandingBucket,
        Key: key,
        Body: irveExample.replace(/Picpus/g, `Picpus ${key}`),
      }),
    );
    const file = await recordedFile(pool, key, 120_000);
    expect(file.status).toBe('loaded');

    figures[signal] = {
      upSeconds: Number(seconds.toFixed(1)),
      republishedOutputs: restoration.republished.length,
      relationsChecked: before.relations.length,
      rowsBefore: before.relations.reduce((sum, relation) => sum + relation.rows, 0),
    };
  });
});
