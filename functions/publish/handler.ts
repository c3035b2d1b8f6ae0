import { projectLineageSink, publishPass, queueHandler, unknownOutputs } from '@datacycle/core';

/**
 * Publish queue consumer: after a transform pass whose tests passed, exports the datasets it
 * took in and the models it rebuilt to the public bucket (exports/<name>/<version>/ and
 * latest/). A pass that could not run at all fails its message, which SQS delivers again.
 */
export const handler = queueHandler(
  'publish',
  'publish',
  async (event, { platform, log }) => {
    const { publications, failed } = await publishPass(
      {
        pool: await platform.pool(),
        s3: platform.s3,
        bucket: platform.buckets.public,
        project: platform.project,
        eventBus: platform.eventBus,
        lineage: projectLineageSink(platform.project, platform.s3, platform.buckets.internal),
      },
      event.detail,
    );
    (failed.length > 0 ? log.error : log.info)('published', {
      outputs: publications.map((publication) => `${publication.name}@${publication.version}`),
      failed,
    });
  },
  {
    describe: (event) => ({ runIds: event.detail.runIds, transformId: event.detail.transformId }),
    refuse: (event, project) => unknownOutputs(project, [...event.detail.datasets, ...event.detail.models]),
  },
);
