/**
 * LocalStack keeps its state in memory, PostgreSQL on disk: after LocalStack restarts (`down`,
 * a kill, a reboot), `up` deploys empty buckets over a database that still holds every dataset
 * and model. This puts the public side back: a publish pass of every output that has data,
 * through the stack's own path (the bus's `dataset.transformed` event → publish queue →
 * publish function), so exports, data packages, catalog and portal are rebuilt from the
 * database. What cannot come back is said: the original files of the landing and internal
 * buckets (reports, raw copies) lived only in LocalStack.
 */
import { randomUUID } from 'node:crypto';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  createPool,
  loadProject,
  pipelineEvents,
  projectOutputs,
  publishEvent,
  qualified,
  objectExists,
} from '@datacycle/core';
import { localClientConfig, localS3 } from './aws-clients';
import type { StackOutputs } from './deploy';
import { eventually, SetupError } from './process';

export interface Restoration {
  /** Outputs republished from the database (empty when the public bucket already had them). */
  republished: string[];
  /** The run that records the republication. */
  runId?: string;
}

/** A publish pass writes the catalog: without it, the public bucket is new (or was emptied). */
const publicBucketHoldsCatalog = (bucket: string) =>
  objectExists(localS3(), { bucket, key: 'catalog/catalog.jsonld' });

export async function restorePublications(
  projectDir: string,
  databaseUrl: string,
  outputs: StackOutputs,
  options: { timeoutMs?: number } = {},
): Promise<Restoration> {
  if (await publicBucketHoldsCatalog(outputs.PublicBucket)) return { republished: [] };
  const loaded = await loadProject(projectDir);
  if (!loaded.ok) return { republished: [] };
  const project = loaded.project;
  const pool = createPool(databaseUrl);
  const withData: { name: string; kind: 'dataset' | 'model' }[] = [];
  try {
    for (const output of projectOutputs(project)) {
      if (output.formats.length === 0) continue;
      const relation = qualified(output.relation.schema, output.relation.name);
      const { rows } = await pool.query<{ present: boolean }>(
        'SELECT to_regclass($1) IS NOT NULL AS present',
        [relation],
      );
      if (!rows[0]?.present) continue;
      const { rows: any } = await pool.query(`SELECT 1 FROM ${relation} LIMIT 1`);
      if (any.length > 0) withData.push({ name: output.name, kind: output.kind });
    }
  } finally {
    await pool.end();
  }
  if (withData.length === 0) return { republished: [] };
  const runId = randomUUID();
  await publishEvent(
    { client: new EventBridgeClient(localClientConfig()), name: outputs.EventBusName },
    pipelineEvents.datasetTransformed,
    {
      transformId: `restore-${runId}`,
      datasets: withData.filter((output) => output.kind === 'dataset').map((output) => output.name),
      models: withData.filter((output) => output.kind === 'model').map((output) => output.name),
      runIds: [runId],
    },
  );
  // Done when the pass's publish step is (exports, catalog and portal are part of it).
  const watcher = createPool(databaseUrl);
  try {
    const step = await eventually(
      async () =>
        (
          await watcher.query<{ status: string; error: string | null }>(
            `SELECT status, error FROM ops.run_steps WHERE run_id = $1 AND step = 'publish' AND status <> 'running'`,
            [runId],
          )
        ).rows[0],
      options.timeoutMs ?? 180_000,
      'the republication of the outputs after LocalStack restarted empty',
    );
    if (step.status !== 'succeeded')
      throw new SetupError(
        `republishing the outputs from the database failed: ${step.error ?? step.status}`,
        `see \`npx datacycle logs publish\` and \`npx datacycle runs\` (run ${runId})`,
      );
  } finally {
    await watcher.end();
  }
  return { republished: withData.map((output) => output.name), runId };
}
