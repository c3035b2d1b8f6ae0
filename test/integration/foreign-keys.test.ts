import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestObject, migrate, type Buckets, type IngestReport, type Project } from '@datacycle/core';
import { localS3, readJson, testPool, uniqueName } from '../helpers/local-cloud';
import { createTestBuckets, testProject } from '../helpers/projects';

const s3 = localS3();
const pool = testPool();
const run = uniqueName('fk');
let buckets: Buckets;
const parent = `${run}-deps`;
const child = `${run}-bornes`;

const project = (policy: 'reject' | 'load-valid'): Project =>
  testProject([
    { id: parent, schema: { fields: [{ name: 'code' }, { name: 'nom' }], primaryKey: 'code' } },
    {
      id: child,
      schema: {
        fields: [{ name: 'id' }, { name: 'code_dep' }],
        foreignKeys: [{ fields: 'code_dep', reference: { resource: parent, fields: 'code' } }],
      },
      config: { onInvalid: { policy, maxErrorRate: 0.5 } },
    },
  ]);

async function ingest(
  prefix: string,
  name: string,
  body: string,
  policy: 'reject' | 'load-valid' = 'reject',
) {
  const key = `${prefix}/${name}`;
  await s3.send(new PutObjectCommand({ Bucket: buckets.landing, Key: key, Body: body }));
  return ingestObject({ s3, pool, project: project(policy), buckets }, { bucket: buckets.landing, key });
}

beforeAll(async () => {
  await migrate(pool);
  buckets = await createTestBuckets(s3, run);
  await ingest(parent, 'deps.csv', 'code,nom\n45,Loiret\n2A,Corse-du-Sud\n');
});
afterAll(async () => {
  for (const id of [child, parent]) await pool.query(`DROP TABLE IF EXISTS raw."${id.replaceAll('-', '_')}"`);
  await pool.end();
});

describe('foreign keys to another dataset', () => {
  it('rejects a file whose rows point at unknown codes, naming the rows', async () => {
    const outcome = await ingest(child, 'a.csv', 'id,code_dep\n1,45\n2,99\n3,2A\n4,98\n');

    expect(outcome.status).toBe('rejected');
    if (outcome.status === 'ignored') return;
    const report = await readJson<IngestReport>(s3, buckets.internal, outcome.reportKey);
    expect(report.errorCounts).toEqual({ 'foreign-key': 2 });
    expect(report.errors).toEqual([
      expect.objectContaining({
        type: 'foreign-key',
        rowNumber: 3,
        cell: '99',
        message: `code_dep = 99 is not in ${parent} (code)`,
      }),
      expect.objectContaining({ type: 'foreign-key', rowNumber: 5, cell: '98' }),
    ]);
    // Its only load was rejected, so the table was never created (the DDL rolled back too).
    const { rows } = await pool.query('SELECT to_regclass($1) AS t', [`raw."${child.replaceAll('-', '_')}"`]);
    expect(rows).toEqual([{ t: null }]);
  });

  it('with load-valid, loads the rows whose codes exist', async () => {
    const outcome = await ingest(child, 'b.csv', 'id,code_dep\n1,45\n2,99\n3,2A\n', 'load-valid');

    expect(outcome).toMatchObject({ status: 'loaded', rowsLoaded: 2 });
    const { rows } = await pool.query(`SELECT id FROM raw."${child.replaceAll('-', '_')}" ORDER BY id`);
    expect(rows.map((r) => r.id)).toEqual(['1', '3']);
  });
});
