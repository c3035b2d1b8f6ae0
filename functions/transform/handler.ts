import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { SQSClient } from '@aws-sdk/client-sqs';
import { deleteDrained, drainBurst, errorMessage, runTransform, runtime } from '@datacycle/core';

const sqs = new SQSClient({});
const queueUrl = process.env.TRANSFORM_QUEUE_URL ?? '';

/** A dataset.loaded event, as the rule delivers it to the transform queue. */
const loadedEventSchema = z.object({
  detail: z.object({ dataset: z.string(), runId: z.string(), rows: z.number().optional() }),
});

/**
 * Transform queue consumer. The queue gathers the dataset.loaded events of a burst (the event
 * source's batching window), and one pass takes them all in: the models downstream of every
 * dataset loaded, recorded as a step of each run. A pass that could not run at all (the
 * database is away) fails the batch, which SQS delivers again.
 */
async function transform(event: SQSEvent): Promise<SQSBatchResponse> {
  const platform = runtime();
  // The rest of the burst: loads that arrive within the coalescing window join this pass.
  const firstSent = Math.min(...event.Records.map((record) => Number(record.attributes.SentTimestamp)));
  const drained = await drainBurst(
    sqs,
    queueUrl,
    firstSent,
    platform.project.config.transform.coalesceSeconds,
  );
  const bodies = [
    ...event.Records.map((record) => record.body),
    ...drained.map((message) => message.Body ?? ''),
  ];
  const loads = bodies.flatMap((body) => {
    const parsed = loadedEventSchema.safeParse(JSON.parse(body));
    if (!parsed.success) {
      log('error', 'not a dataset.loaded event, dropped', { body: body.slice(0, 500) });
      return [];
    }
    return [parsed.data.detail];
  });
  try {
    if (loads.length > 0) {
      const outcome = await runTransform(
        { pool: await platform.pool(), project: platform.project, eventBus: platform.eventBus },
        {
          datasets: [...new Set(loads.map((load) => load.dataset))],
          runIds: [...new Set(loads.map((load) => load.runId))],
        },
      );
      log('info', `transform ${outcome.status}`, {
        transformId: outcome.transformId,
        loads: loads.length,
        models: outcome.models,
        failedTests: outcome.tests.filter((test) => test.status !== 'pass').length,
        error: outcome.error,
      });
    }
    await deleteDrained(sqs, queueUrl, drained);
    return { batchItemFailures: [] };
  } catch (error) {
    // Drained messages come back by themselves when their visibility timeout ends.
    log('error', 'transform pass could not run, will retry', { error: errorMessage(error) });
    return { batchItemFailures: event.Records.map((record) => ({ itemIdentifier: record.messageId })) };
  }
}

function log(level: 'info' | 'error', message: string, details: Record<string, unknown>): void {
  console.log(JSON.stringify({ level, function: 'transform', message, ...details }));
}

export const handler = middy(transform);
