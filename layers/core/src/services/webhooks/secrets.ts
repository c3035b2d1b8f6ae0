import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { rotatingSecretSchema, rotation, type RotatingSecret } from '../../platform/secrets';
import { generateSecret } from './signing';

/**
 * A subscription's signing secrets, in Secrets Manager: the current one and, for a while
 * after a rotation, the previous one (deliveries carry both signatures meanwhile).
 */
export type StoredSecret = RotatingSecret;

export interface SecretStore {
  client: SecretsManagerClient;
  /** Secret names are `<prefix><subscription id>`, e.g. `datacycle/territoires/webhooks/`. */
  prefix: string;
}

/** Where a project's webhook signing secrets live in Secrets Manager (IAM grants use it too). */
export const webhookSecretPrefix = (projectName: string) => `datacycle/${projectName}/webhooks/`;

export const secretName = (store: SecretStore, subscriptionId: string) => `${store.prefix}${subscriptionId}`;

export async function createSigningSecret(store: SecretStore, subscriptionId: string): Promise<string> {
  const secret = generateSecret();
  await store.client.send(
    new CreateSecretCommand({
      Name: secretName(store, subscriptionId),
      Description: `datacycle webhook signing secret of subscription ${subscriptionId}`,
      SecretString: JSON.stringify({ current: secret } satisfies StoredSecret),
    }),
  );
  return secret;
}

const cache = new Map<string, { value: StoredSecret; until: number }>();

/** Secrets Manager's largest batch. */
const BATCH_SIZE = 20;

/**
 * Reads the secrets of many subscriptions into the cache, twenty per call (a fan-out to a
 * thousand subscribers would otherwise make a thousand calls). Best effort: a secret the batch
 * did not return, or a batch refused, is read alone by readSigningSecret, which says why.
 */
export async function prefetchSigningSecrets(
  store: SecretStore,
  subscriptionIds: string[],
  cacheMs: number,
): Promise<void> {
  const missing = [...new Set(subscriptionIds.map((id) => secretName(store, id)))].filter(
    (name) => (cache.get(name)?.until ?? 0) <= Date.now(),
  );
  const batches: string[][] = [];
  for (let start = 0; start < missing.length; start += BATCH_SIZE)
    batches.push(missing.slice(start, start + BATCH_SIZE));
  await Promise.all(
    batches.map(async (names) => {
      const answer = await store.client
        .send(new BatchGetSecretValueCommand({ SecretIdList: names }))
        .catch(() => undefined);
      for (const secret of answer?.SecretValues ?? []) {
        const parsed = rotatingSecretSchema.safeParse(JSON.parse(secret.SecretString ?? '{}'));
        if (secret.Name && parsed.success)
          cache.set(secret.Name, { value: parsed.data, until: Date.now() + cacheMs });
      }
    }),
  );
}

/** The stored secrets; cached for `cacheMs` (deliveries read them for every attempt). */
export async function readSigningSecret(
  store: SecretStore,
  subscriptionId: string,
  cacheMs = 0,
): Promise<StoredSecret> {
  const name = secretName(store, subscriptionId);
  const cached = cache.get(name);
  if (cacheMs > 0 && cached && cached.until > Date.now()) return cached.value;
  const { SecretString } = await store.client.send(new GetSecretValueCommand({ SecretId: name }));
  const value = rotatingSecretSchema.parse(JSON.parse(SecretString ?? '{}'));
  cache.set(name, { value, until: Date.now() + cacheMs });
  return value;
}

/** A new current secret; the old one keeps signing for `overlapHours`. Returns the new one. */
export async function rotateSigningSecret(
  store: SecretStore,
  subscriptionId: string,
  overlapHours: number,
  now = new Date(),
): Promise<{ secret: string; previousUntil: string }> {
  const stored = await readSigningSecret(store, subscriptionId).catch((error: unknown) => {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  });
  // A secret that is gone (a fresh local cloud) is created anew, with nothing to overlap.
  if (!stored)
    return { secret: await createSigningSecret(store, subscriptionId), previousUntil: now.toISOString() };
  const rotated = rotation(stored.current, {
    overlapSeconds: overlapHours * 3600,
    next: generateSecret(),
    now: now.getTime(),
  });
  await store.client.send(
    new PutSecretValueCommand({
      SecretId: secretName(store, subscriptionId),
      SecretString: JSON.stringify(rotated),
    }),
  );
  cache.delete(secretName(store, subscriptionId));
  return { secret: rotated.current, previousUntil: rotated.previousUntil! };
}

export async function deleteSigningSecret(store: SecretStore, subscriptionId: string): Promise<void> {
  try {
    await store.client.send(
      new DeleteSecretCommand({
        SecretId: secretName(store, subscriptionId),
        ForceDeleteWithoutRecovery: true,
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
}

export async function signingSecretExists(store: SecretStore, subscriptionId: string): Promise<boolean> {
  try {
    await readSigningSecret(store, subscriptionId);
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}
