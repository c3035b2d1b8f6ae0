import middy from '@middy/core';
import { collectSource, collectRequestSchema, TerminalError, runtime } from '@datacycle/core';

/**
 * Target of each source's EventBridge schedule: fetches the source into the landing bucket,
 * from where the S3 event hands it to ingestion. Transient failures throw, so Lambda's
 * asynchronous retries try again; terminal ones are recorded in ops.runs by the core.
 */
async function collect(event: unknown) {
  const request = collectRequestSchema.parse(event);
  const platform = runtime();
  const dataset = platform.project.datasets.find((candidate) => candidate.id === request.dataset);
  if (!dataset) throw new TerminalError(`dataset ${request.dataset} is not in the deployed project`);
  const outcome = await collectSource(
    {
      s3: platform.s3,
      pool: await platform.pool(),
      landingBucket: platform.buckets.landing,
      secretValue: platform.secretValue,
    },
    dataset,
    request.source,
    { from: request.from },
  );
  console.log(JSON.stringify({ level: 'info', function: 'collect', dataset: dataset.id, ...outcome }));
  return outcome;
}

export const handler = middy(collect);
