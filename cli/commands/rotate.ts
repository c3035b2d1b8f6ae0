import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { rotatedSecret } from '@datacycle/core';
import { parseArgs } from '../args';
import { UsageError } from '../project';
import { deployedStack } from '../stack';

const usage = `usage: datacycle rotate <api-key | push <dataset>> [--overlap-hours 168] [--aws --stack <name>]
  a new random value; the old one is accepted too for the overlap (default 7 days),
  while the people holding it change to the new one`;

/**
 * `datacycle rotate api-key` / `datacycle rotate push <dataset>`: rotates a secret shared with
 * people outside the stack. The functions accept the new value at once (a mismatch makes them
 * read the secret again) and the old one until the overlap ends. Prints the new value.
 */
export async function rotateCommand(args: string[]): Promise<number> {
  const { positional, flags } = parseArgs(args, ['aws']);
  const [what, dataset] = positional;
  const hoursFlag = flags.get('overlap-hours') ?? '168';
  if (hoursFlag === true || !/^\d+(\.\d+)?$/.test(hoursFlag))
    throw new UsageError('--overlap-hours needs a number of hours (0: the old value stops at once)');
  const { outputs, clientConfig } = await deployedStack(flags);
  let secretId: string | undefined;
  if (what === 'api-key') secretId = outputs.ApiKeySecretArn;
  else if (what === 'push') {
    const secrets = JSON.parse(outputs.PushSecrets) as Record<string, string>;
    if (!dataset) throw new UsageError(usage);
    secretId = secrets[dataset];
    if (!secretId)
      throw new UsageError(
        `dataset ${dataset} has no push secret`,
        `datasets with a push source: ${Object.keys(secrets).join(', ') || 'none'}`,
      );
  } else throw new UsageError(usage);
  const client = new SecretsManagerClient(clientConfig);
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  const rotated = rotatedSecret(SecretString ?? '', { overlapSeconds: Number(hoursFlag) * 3600 });
  await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: rotated.text }));
  console.log(rotated.value);
  console.error(
    `${what === 'push' ? `push secret of ${dataset}` : 'API key'} rotated; the previous value is accepted until ${rotated.previousUntil}`,
  );
  return 0;
}
