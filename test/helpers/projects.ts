import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { tableSchemaSchema, type DatasetConfig, type Project } from '@datacycle/core';

/** Factories for in-memory data projects, so each test declares only what it is about. */
export function datasetConfig(id: string, overrides: Partial<DatasetConfig> = {}): DatasetConfig {
  return {
    title: id,
    description: 'test dataset',
    keywords: [],
    theme: [],
    accrualPeriodicity: 'daily',
    schema: `${id}.json`,
    sources: [{ type: 's3', prefix: `${id}/` }],
    load: { mode: 'replace' },
    onInvalid: { policy: 'reject', maxErrorRate: 0 },
    exports: ['csv'],
    csvExport: { delimiter: ',', bom: false },
    tests: [],
    ...overrides,
  };
}

export function testProject(
  datasets: { id: string; schema: unknown; config?: Partial<DatasetConfig> }[],
  models: Project['models'] = [],
): Project {
  return {
    config: {
      name: 'itest',
      title: 'integration test',
      publisher: { name: 'test' },
      contact: { name: 'test', email: 'test@example.org' },
      licence: 'etalab-2.0',
      language: 'fr',
      transform: { coalesceSeconds: 0 },
      ingest: { memoryMb: 1769, timeoutMinutes: 5 },
      backups: { schedule: 'cron(0 3 * * ? *)' },
      alerts: { channels: [] },
      indicators: { thresholds: [] },
      lineage: {},
      network: { allow: ['127.0.0.1/32'] },
      webhooks: { retrySchedule: [0, 1, 1], disableAfterHours: 72, subscriptions: [] },
    },
    datasets: datasets.map((dataset) => ({
      id: dataset.id,
      tableSchema: tableSchemaSchema.parse(dataset.schema),
      config: datasetConfig(dataset.id, dataset.config),
    })),
    models,
  };
}

/** The four buckets of a stack, created fresh for one test file. */
export async function createTestBuckets(s3: S3Client, prefix: string) {
  const buckets = {
    landing: `${prefix}-landing`,
    raw: `${prefix}-raw`,
    internal: `${prefix}-internal`,
    public: `${prefix}-public`,
  };
  for (const bucket of Object.values(buckets)) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return buckets;
}

export const rawTable = (datasetId: string) => `raw."${datasetId.replaceAll('-', '_')}"`;

/** The example project's IRVE static file (two valid charging points), as text. */
export const irveExample = readFileSync(
  path.resolve(import.meta.dirname, '../../examples/territoires/data/irve-statique-exemple.csv'),
  'utf8',
);
