import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { generateSecret } from './signing';

/**
 * A subscription's signing secrets, in Secrets Manager: the current one and, for a while
 * after a rotation, the previous one (deliveries carry both signatures meanwhile).
 */
const storedSecretSchema = z.object({
  current: z.string(),
  previous: z.string().optional(),
  previousUntil: z.iso.datetime().optional(),
});

export type StoredSecret = z.infer<typeof storedSecretSchema>;

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
  const value = storedSecretSchema.parse(JSON.parse(SecretString ?? '{}'));
  cache.set(name, { value, until: Date.now() + cacheMs });
  return value;
}

/** The secrets that sign a delivery now: the current one, and the previous during its overlap. */
export function activeSecrets(stored: StoredSecret, now = new Date()): string[] {
  const overlapping = stored.previous && stored.previousUntil && new Date(stored.previousUntil) > now;
  return overlapping ? [stored.current, stored.previous!] : [stored.current];
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
  const secret = generateSecret();
  const previousUntil = new Date(now.getTime() + overlapHours * 3_600_000).toISOString();
  await store.client.send(
    new PutSecretValueCommand({
      SecretId: secretName(store, subscriptionId),
      SecretString: JSON.stringify({
        current: secret,
        previous: stored.current,
        previousUntil,
      } satisfies StoredSecret),
    }),
  );
  cache.delete(secretName(store, subscriptionId));
  return { secret, previousUntil };
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
