import { z } from 'zod';
import { TerminalError, errorMessage, failedRun } from '../../platform/errors/errors';
import type { Dataset } from '../../platform/project';
import { finishRun, newRunId, startRun } from '../../platform/runs/runs';
import { httpGet } from '../../platform/net/http-client';
import { dropInLanding, type CollectContext, type CollectOutcome } from './http-source';

const udataDataset = z.object({
  resources: z.array(
    z.object({
      title: z.string().nullable().optional(),
      format: z.string().nullable().optional(),
      url: z.string(),
      last_modified: z.string().nullable().optional(),
    }),
  ),
});

/**
 * A dataset of a udata portal (data.gouv.fr and others): reads the dataset's metadata, picks
 * the resource by format and title (the most recently modified when several match) and
 * drops its file in the landing zone.
 */
export async function collectUdataSource(
  context: CollectContext,
  dataset: Dataset,
  sourceIndex: number,
): Promise<CollectOutcome> {
  const source = dataset.config.sources[sourceIndex];
  if (!source || source.type !== 'udata')
    throw new TerminalError(`dataset ${dataset.id} has no udata source #${sourceIndex}`);
  const runId = newRunId();
  const metadataUrl = `${source.api.replace(/\/$/, '')}/datasets/${encodeURIComponent(source.dataset)}/`;
  await startRun(context.pool, {
    step: 'collect',
    id: runId,
    trigger: 'schedule',
    dataset: dataset.id,
    details: { url: metadataUrl },
  });
  try {
    const response = await httpGet(metadataUrl, {
      policy: context.http,
      headers: { accept: 'application/json' },
    });
    const chunks: Buffer[] = [];
    for await (const chunk of response.body) chunks.push(chunk as Buffer);
    const parsed = udataDataset.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    if (!parsed.success) throw new TerminalError(`${metadataUrl} is not a udata dataset document`);
    const title = source.title ? new RegExp(source.title, 'i') : undefined;
    const candidates = parsed.data.resources
      .filter(
        (resource) => !source.format || (resource.format ?? '').toLowerCase() === source.format.toLowerCase(),
      )
      .filter((resource) => !title || title.test(resource.title ?? ''))
      .sort((a, b) => (b.last_modified ?? '').localeCompare(a.last_modified ?? ''));
    const resource = candidates[0];
    if (!resource) {
      const available = parsed.data.resources.map((r) => `${r.title} (${r.format})`).join(', ');
      throw new TerminalError(
        `no resource of ${source.dataset} matches format ${source.format ?? 'any'} and title ${source.title ?? 'any'}`,
        `available: ${available}`,
      );
    }
    const file = await httpGet(resource.url, { policy: context.http });
    const filename = new URL(resource.url).pathname.split('/').pop() || `resource.${source.format ?? 'dat'}`;
    const { key, bytes } = await dropInLanding(context, dataset.id, filename, file.body, {
      runId,
      source: resource.url,
    });
    await finishRun(context.pool, runId, 'collect', 'succeeded', {
      details: { resource: resource.url, key, bytes },
    });
    return { status: 'collected', runId, key, bytes };
  } catch (error) {
    await finishRun(context.pool, runId, 'collect', 'failed', { error: errorMessage(error) }).catch(
      () => undefined,
    );
    throw failedRun(error, runId);
  }
}
