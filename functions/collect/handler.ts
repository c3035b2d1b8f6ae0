import {
  TerminalError,
  collectRequestSchema,
  collectSource,
  errorMessage,
  isTransient,
  raiseAlert,
  lambdaHandler,
  lineageNamespace,
  projectLineageSink,
  runIdOf,
} from '@datacycle/core';

/**
 * Target of each source's EventBridge schedule: fetches the source into the landing bucket,
 * from where the S3 event hands it to ingestion. The HTTP client has already retried what
 * can be retried (backoff, Retry-After), so a failure here is final: the run is marked failed
 * in ops.runs by the core, an alert is raised, and the invocation ends without an error
 * (the stack sets no Lambda retry: retrying would only repeat the failure and the alert).
 */
export const handler = lambdaHandler('collect', async (event: unknown, { platform, log }) => {
  const request = collectRequestSchema.parse(event);
  const dataset = platform.project.datasets.find((candidate) => candidate.id === request.dataset);
  if (!dataset) throw new TerminalError(`dataset ${request.dataset} is not in the deployed project`);
  const pool = await platform.pool();
  try {
    const outcome = await collectSource(
      {
        s3: platform.s3,
        pool,
        landingBucket: platform.buckets.landing,
        secretValue: platform.secretValue,
        http: { allowNetworks: platform.project.config.network.allow },
        lineage: {
          sink: projectLineageSink(platform.project, platform.s3, platform.buckets.internal),
          namespace: lineageNamespace(platform.project),
        },
      },
      dataset,
      request.source,
      { from: request.from },
    );
    log.info('collected', { dataset: dataset.id, ...outcome });
    return outcome;
  } catch (error) {
    const source = dataset.config.sources[request.source];
    const where = source && 'url' in source ? source.url : `source #${request.source}`;
    const alert = await raiseAlert(
      { pool, eventBus: platform.eventBus },
      {
        kind: 'collect-failed',
        severity: 'error',
        subject: dataset.id,
        runId: runIdOf(error),
        title: `collection of ${dataset.id} failed`,
        message: `${where}: ${errorMessage(error)}`,
        hint:
          error instanceof TerminalError && error.hint
            ? error.hint
            : isTransient(error)
              ? 'the source did not answer after several retries; the next scheduled run tries again'
              : 'check the source and the dataset file; `datacycle collect` runs it on demand',
        details: { source: request.source },
      },
    );
    log.error('collection failed', { dataset: dataset.id, error, alert });
    return { status: 'failed', error: errorMessage(error) };
  }
});
