import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  createPool,
  enqueueDeliveries,
  listSubscriptions,
  readSigningSecret,
  replayDeliveries,
  parseRotatingSecret,
  rotateSigningSecret,
  webhookSecretPrefix,
} from '@datacycle/core';
import { parseArgs } from '../args';
import { databaseUrl } from '../database';
import { deployedStack } from '../stack';

const usage = `usage: datacycle webhooks <command> [--aws --stack <name>]
  list                                   subscriptions, with their state
  deliveries <subscription> [--status S] latest deliveries and their attempts
  replay <delivery id>                   deliver one delivery again (same webhook-id)
  replay --subscription <id>             deliver every failed delivery of a subscription again
  enable <subscription> | disable <subscription>
  secret <subscription>                  print the current signing secret (give it to the subscriber)
  rotate <subscription> [--overlap-hours 24]   new secret; the old one signs too meanwhile`;

/** `datacycle webhooks …`: operate subscriptions and deliveries (database, queue, secrets). */
export async function webhooksCommand(args: string[]): Promise<number> {
  const { positional, flags } = parseArgs(args, ['aws']);
  const [command, target] = positional;
  const pool = createPool(databaseUrl());
  try {
    const stack = () => deployedStack(flags);
    const secrets = async () => {
      const { outputs, clientConfig } = await stack();
      return {
        client: new SecretsManagerClient(clientConfig),
        prefix: webhookSecretPrefix(outputs.ProjectName),
      };
    };
    switch (command) {
      case 'list': {
        for (const s of await listSubscriptions(pool))
          console.log(
            `${s.id}  ${s.enabled ? 'enabled ' : 'disabled'}  ${s.url}  ${s.events.join(',')}${s.datasets ? ` [${s.datasets.join(',')}]` : ''}${s.name ? `  (${s.name})` : ''}${s.disabledReason ? `\n    ↳ ${s.disabledReason}` : ''}${s.failingSince ? `\n    ↳ failing since ${s.failingSince}` : ''}`,
          );
        return 0;
      }
      case 'deliveries': {
        if (!target) break;
        const status = flags.get('status');
        const { rows } = await pool.query(
          `SELECT d.id, d.event_type, d.status, d.attempts, d.last_status_code, d.last_error, d.created_at
           FROM ops.deliveries d WHERE d.subscription_id = $1 AND ($2::text IS NULL OR d.status = $2)
           ORDER BY d.created_at DESC LIMIT 50`,
          [target, typeof status === 'string' ? status : null],
        );
        for (const d of rows)
          console.log(
            `${d.id}  ${(d.created_at as Date).toISOString().slice(0, 19)}  ${d.event_type}  ${d.status} after ${d.attempts} attempt(s)${d.last_status_code ? ` (HTTP ${d.last_status_code})` : ''}${d.last_error ? `  ${d.last_error}` : ''}`,
          );
        return 0;
      }
      case 'replay': {
        const subscription = flags.get('subscription');
        if (!target && typeof subscription !== 'string') break;
        const ids = await replayDeliveries(
          pool,
          typeof subscription === 'string' ? { subscriptionId: subscription } : { deliveryId: target! },
        );
        const { outputs, clientConfig } = await stack();
        await enqueueDeliveries(
          { sqs: new SQSClient(clientConfig), url: outputs.DeliveriesQueueUrl },
          ids.map((deliveryId) => ({ deliveryId, attempt: 0 })),
        );
        console.log(`replaying ${ids.length} delivery(ies)${ids.length ? `: ${ids.join(', ')}` : ''}`);
        return 0;
      }
      case 'enable':
      case 'disable': {
        if (!target) break;
        const { rowCount } = await pool.query(
          `UPDATE ops.subscriptions SET enabled = $2, disabled_reason = CASE WHEN $2 THEN NULL ELSE 'disabled by an operator' END,
             failing_since = CASE WHEN $2 THEN NULL ELSE failing_since END, updated_at = now() WHERE id = $1`,
          [target, command === 'enable'],
        );
        if (!rowCount) throw new Error(`no subscription ${target}`);
        console.log(`${target} ${command}d`);
        return 0;
      }
      case 'secret': {
        if (!target) break;
        console.log((await readSigningSecret(await secrets(), target)).current);
        return 0;
      }
      case 'rotate': {
        if (!target) break;
        const hours = Number(flags.get('overlap-hours') ?? 24);
        const { secret, previousUntil } = await rotateSigningSecret(await secrets(), target, hours);
        console.log(`new secret: ${secret}\nthe previous one signs too until ${previousUntil}`);
        return 0;
      }
    }
    console.error(usage);
    return 2;
  } finally {
    await pool.end();
  }
}

/** `datacycle api-key`: the key of the subscriptions API, from Secrets Manager. */
export async function apiKeyCommand(args: string[]): Promise<number> {
  const { flags } = parseArgs(args, ['aws']);
  const { outputs, clientConfig } = await deployedStack(flags);
  const { SecretString } = await new SecretsManagerClient(clientConfig).send(
    new GetSecretValueCommand({ SecretId: outputs.ApiKeySecretArn }),
  );
  // During a rotation's overlap the secret holds the previous key too: print the current one.
  console.log(parseRotatingSecret(SecretString ?? '').current);
  console.error(`API: ${outputs.ApiUrl} (Authorization: Bearer <key>)`);
  return 0;
}
