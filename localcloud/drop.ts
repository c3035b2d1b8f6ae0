import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Dataset, Project } from '@datacycle/core';
import { localS3 } from './aws-clients';
import { readStackOutputs } from './deploy';
import { SetupError } from './process';

/** The dataset a dropped file is for: the one named, else the only one that takes drops, else by file name. */
export function datasetOfDrop(project: Project, file: string, named?: string): Dataset {
  const droppable = project.datasets.filter((dataset) =>
    dataset.config.sources.some((source) => source.type === 's3'),
  );
  const names = droppable.map((dataset) => dataset.id).join(', ');
  if (named !== undefined) {
    const found = droppable.find((dataset) => dataset.id === named);
    if (!found) throw new SetupError(`no dataset ${named} takes dropped files`, `choose one of: ${names}`);
    return found;
  }
  if (droppable.length === 1) return droppable[0]!;
  const base = path.basename(file).toLowerCase();
  const byName = droppable.filter((dataset) => base.startsWith(dataset.id));
  if (byName.length === 1) return byName[0]!;
  throw new SetupError(
    `which dataset is ${path.basename(file)} for?`,
    `say it with --dataset <id>, one of: ${names}`,
  );
}

/**
 * Puts a file in the landing bucket of a project's stack on the local cloud, under its
 * dataset's prefix, as a producer would (the S3 event starts the ingest): what `datacycle
 * drop` and `npm start` do.
 */
export async function dropFile(
  projectDir: string,
  project: Project,
  file: string,
  named?: string,
): Promise<{ dataset: Dataset; bucket: string; key: string }> {
  const dataset = datasetOfDrop(project, file, named);
  const source = dataset.config.sources.find((candidate) => candidate.type === 's3');
  const prefix = source?.type === 's3' ? source.prefix : `${dataset.id}/`;
  const bucket = readStackOutputs(projectDir).LandingBucket;
  const key = `${prefix}${new Date().toISOString().replace(/[:.]/g, '-')}-${path.basename(file)}`;
  await localS3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(file) }));
  return { dataset, bucket, key };
}
