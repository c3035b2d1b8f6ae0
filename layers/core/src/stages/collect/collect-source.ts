import { TerminalError } from '../../platform/errors/errors';
import type { Dataset } from '../../platform/project';
import { collectApiSource, collectWfsSource } from './api-source';
import { collectHttpSource, type CollectContext, type CollectOutcome } from './http-source';
import { collectUdataSource } from './udata-source';

/** Collects one scheduled source of a dataset, whatever its type. */
export function collectSource(
  context: CollectContext,
  dataset: Dataset,
  sourceIndex: number,
  options: { from?: string } = {},
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
