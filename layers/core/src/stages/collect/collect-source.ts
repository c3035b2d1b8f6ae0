import { randomUUID } from 'node:crypto';
import { TerminalError, errorMessage, runIdOf } from '../../platform/errors/errors';
import { emitLineage, jobRunEvents, objectDataset, type LineageSink } from '../../platform/lineage';
import type { Dataset } from '../../platform/project';
import { collectApiSource, collectWfsSource } from './api-source';
import { collectHttpSource, type CollectContext, type CollectOutcome } from './http-source';
import { collectUdataSource } from './udata-source';

/**
 * Collects one scheduled source of a dataset, whatever its type; with `lineage`, the
 * collection's OpenLineage run (the source's URL in, the landed file out; FAIL with why).
 */
export async function collectSource(
  context: CollectContext & { lineage?: { sink: LineageSink; namespace: string } },
  dataset: Dataset,
  sourceIndex: number,
  options: { from?: string } = {},
): Promise<CollectOutcome> {
  const started = new Date();
  const source = dataset.config.sources[sourceIndex];
  const lineageOf = async (runId: string, outcome: Parameters<typeof jobRunEvents>[2], key?: string) => {
    if (!context.lineage || !source || !('url' in source)) return;
    const url = new URL(source.url);
    const events = jobRunEvents(
      {
        namespace: context.lineage.namespace,
        job: `collect.${dataset.id}`,
        jobType: 'COLLECT',
        runId,
        // The source without its query (which may carry a key): origin and path.
        inputs: [{ namespace: url.origin, name: url.pathname }],
        outputs: key ? [objectDataset(context.landingBucket, key)] : [],
      },
      { started, ended: new Date() },
      outcome,
    );
    await emitLineage(context.lineage.sink, events).catch(() => undefined);
  };
  try {
    const outcome = await collectFrom(context, dataset, sourceIndex, options);
    await lineageOf(
      outcome.runId,
      { status: 'COMPLETE' },
      outcome.status === 'collected' ? outcome.key : undefined,
    );
    return outcome;
  } catch (error) {
    await lineageOf(runIdOf(error) ?? randomUUID(), { status: 'FAIL', error: errorMessage(error) });
    throw error;
  }
}

function collectFrom(
  context: CollectContext,
  dataset: Dataset,
  sourceIndex: number,
  options: { from?: string },
): Promise<CollectOutcome> {
  const source = dataset.config.sources[sourceIndex];
  switch (source?.type) {
    case 'http':
      return collectHttpSource(context, dataset, sourceIndex);
    case 'api':
      return collectApiSource(context, dataset, sourceIndex, options);
    case 'wfs':
      return collectWfsSource(context, dataset, sourceIndex);
    case 'udata':
      return collectUdataSource(context, dataset, sourceIndex);
    default:
      throw new TerminalError(`dataset ${dataset.id} source #${sourceIndex} is not a scheduled source`);
  }
}
