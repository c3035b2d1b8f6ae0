import {
  batchHandler,
  deleteDrained,
  drainBurst,
  EXCHANGE_PREFIX,
  lambdaRunners,
  projectLineageSink,
  readQueueMessages,
  runTransform,
  unknownOutputs,
  type ModelRunners,
} from '@datacycle/core';

let runners: ModelRunners | undefined;

/**
 * Transform queue consumer. The queue gathers the dataset.loaded events of a burst (the event
 * source's batching window), and one pass takes them all in: the models downstream of every
 * dataset loaded, recorded as a step of each run. A pass that could not run at all (the
 * database is away) fails the batch, which SQS delivers again.
 */
export const handler = batchHandler(
  'transform',
  'transform',
  async (items, { platform, log, event, consume }) => {
    const queueUrl = platform.env.QUEUE_URL ?? '';
    // The rest of the burst: loads that arrive within the coalescing window join this pass.
    const firstSent = Math.min(...event.Records.map((record) => Number(record.attributes.SentTimestamp)));
    const drained = await drainBurst(
      platform.sqs(),
      queueUrl,
      firstSent,
      platform.project.config.transform.coalesceSeconds,
    );
    const more = await readQueueMessages(
      drained.map((message) => ({ messageId: message.MessageId ?? '', body: message.Body ?? '' })),
      consume,
    );
    const loads = [...items, ...more.items].map((item) => item.message.detail);
    const outcome = await runTransform(
      {
        pool: await platform.pool(),
        project: platform.project,
        eventBus: platform.eventBus,
        // Python and R models run in their own functions; files pass through the internal bucket.
        exchange: {
          s3: platform.s3,
          bucket: platform.buckets.internal,
          prefix: EXCHANGE_PREFIX,
          runners: (runners ??= lambdaRunners({
            python: platform.env.PYTHON_MODELS_FUNCTION,
            r: platform.env.R_MODELS_FUNCTION,
          })),
        },
        // OpenLineage events: files in the internal bucket, and the project's endpoint if any.
        lineage: projectLineageSink(platform.project, platform.s3, platform.buckets.internal),
      },
      {
        datasets: [...new Set(loads.map((load) => load.dataset))],
        runIds: [...new Set(loads.map((load) => load.runId))],
        redelivered: items.some((item) => item.redelivered),
      },
    );
    log.info(`transform ${outcome.status}`, {
      transformId: outcome.transformId,
      loads: loads.length,
      models: outcome.models,
      failedTests: outcome.tests.filter((test) => test.status !== 'pass').length,
      error: outcome.error,
    });
    // Drained messages that failed come back by themselves when their visibility timeout ends.
    await deleteDrained(
      platform.sqs(),
      queueUrl,
      drained.filter((message) => !more.failures.includes(message.MessageId ?? '')),
    );
  },
  {
    describe: (event) => ({ dataset: event.detail.dataset, runId: event.detail.runId }),
    refuse: (event, project) => unknownOutputs(project, [event.detail.dataset], 'datasets'),
  },
);
