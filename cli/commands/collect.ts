import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { loadProject } from '@datacycle/core';
import { localClientConfig } from '../../localcloud/aws-clients';
import { readStackOutputs } from '../../localcloud/deploy';
import { parseArgs } from '../args';
import { projectDirOf } from '../project';

const usage =
  'usage: datacycle collect <dataset> [--source N] [--from <cursor>] [--project <dir>] [--function <name>] [--aws]';

/**
 * `datacycle collect <dataset>`: runs a dataset's scheduled source now, through the deployed
 * collect function (the same code and input as the schedule). By default against the local
 * cloud; with --aws and --function, against a stack deployed on AWS (credentials from the
 * usual AWS environment).
 */
export async function collectCommand(args: string[]): Promise<number> {
  const { positional, flags } = parseArgs(args, ['aws']);
  const datasetId = positional[0];
  if (!datasetId) {
    console.error(usage);
    return 2;
  }
  const projectDir = projectDirOf(flags);
  const loaded = await loadProject(projectDir);
  if (!loaded.ok) {
    console.error(`the project in ${projectDir} is invalid: run datacycle check ${projectDir}`);
    return 1;
  }
  const dataset = loaded.project.datasets.find((candidate) => candidate.id === datasetId);
  if (!dataset) {
    console.error(
      `no dataset "${datasetId}" in ${projectDir} (datasets: ${loaded.project.datasets.map((d) => d.id).join(', ')})`,
    );
    return 2;
  }
  const scheduled = dataset.config.sources.flatMap((source, index) =>
    source.type === 's3' || source.type === 'push' ? [] : [index],
  );
  const source = flags.has('source') ? Number(flags.get('source')) : scheduled[0];
  if (source === undefined || !scheduled.includes(source)) {
    console.error(
      `dataset ${datasetId} has no scheduled source${flags.has('source') ? ` #${String(flags.get('source'))}` : ''}`,
    );
    return 2;
  }
  const onAws = flags.get('aws') === true;
  const functionName = String(
    flags.get('function') ?? (onAws ? '' : readStackOutputs(projectDir).CollectFunctionName),
  );
  if (!functionName) {
    console.error('--aws needs --function <collect function name> (the CollectFunctionName stack output)');
    return 2;
  }
  const lambda = onAws ? new LambdaClient({}) : new LambdaClient(localClientConfig());
  const response = await lambda.send(
    new InvokeCommand({
      FunctionName: functionName,
      Payload: JSON.stringify({ dataset: datasetId, source }),
    }),
  );
  const payload = new TextDecoder().decode(response.Payload);
  if (response.FunctionError) {
    const error = JSON.parse(payload) as { errorMessage?: string };
    console.error(`✗ collect ${datasetId} failed: ${error.errorMessage ?? payload}`);
    return 1;
  }
  const outcome = JSON.parse(payload) as { status: string; key?: string; bytes?: number; runId: string };
  console.log(
    outcome.status === 'collected'
      ? `✓ ${datasetId}: ${outcome.bytes} bytes collected to landing ${outcome.key} (run ${outcome.runId}); ingestion follows`
      : `✓ ${datasetId}: unchanged since the last collection (run ${outcome.runId})`,
  );
  return 0;
}
