import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { errorMessage, publishPass, runtime } from '@datacycle/core';

/** A dataset.transformed event, as the rule delivers it to the publish queue. */
const transformedEventSchema = z.object({
  detail: z.object({
    datasets: z.array(z.string()),
    models: z.array(z.string()),
    runIds: z.array(z.string()),
  }),
});

/**
 * Publish queue consumer: after a transform pass whose tests passed, exports the datasets it
 * took in and the models it rebuilt to the public bucket (exports/<name>/<version>/ and
 * latest/). A pass that could not run at all fails its message, which SQS delivers again.
 */
async function publish(event: SQSEvent): Promise<SQSBatchResponse> {
  const platform = runtime();
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    const parsed = transformedEventSchema.safeParse(JSON.parse(record.body));
    if (!parsed.success) {
      log('error', 'not a dataset.transformed event, dropped', { body: record.body.slice(0, 500) });
      continue;
    }
    try {
      const { publications, failed } = await publishPass(
        {
          pool: await platform.pool(),
          s3: platform.s3,
          bucket: platform.buckets.public,
          project: platform.project,
          eventBus: platform.eventBus,
        },
        parsed.data.detail,
      );
      log(failed.length > 0 ? 'error' : 'info', 'published', {
        outputs: publications.map((publication) => `${publication.name}@${publication.version}`),
        failed,
      });
    } catch (error) {
      log('error', 'publication could not run, will retry', { error: errorMessage(error) });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}

function log(level: 'info' | 'error', message: string, details: Record<string, unknown>): void {
  console.log(JSON.stringify({ level, function: 'publish', message, ...details }));
}

export const handler = middy(publish);
