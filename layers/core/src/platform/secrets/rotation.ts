import { randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * A secret shared with people outside the stack (the API key, a partner's push secret), in
 * rotation: the current value and, until `previousUntil`, the one it replaced, so that the
 * clients holding the old value keep working while they change it.
 *
 * Stored in Secrets Manager as the bare value (never rotated) or as this JSON document.
 */
export const rotatingSecretSchema = z.object({
  current: z.string().min(1),
  previous: z.string().min(1).optional(),
  previousUntil: z.iso.datetime().optional(),
});
export type RotatingSecret = z.infer<typeof rotatingSecretSchema>;

export function parseRotatingSecret(text: string): RotatingSecret {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return { current: trimmed };
  return rotatingSecretSchema.parse(JSON.parse(trimmed));
}

/** The values in force now: the current one, and the previous one during its overlap. */
export function valuesInForce(secret: RotatingSecret, now = Date.now()): string[] {
  const previousValid =
    secret.previous !== undefined &&
    secret.previousUntil !== undefined &&
    Date.parse(secret.previousUntil) > now;
  return previousValid ? [secret.current, secret.previous!] : [secret.current];
}

/** The values a caller may present now, from the stored text (see valuesInForce). */
export const acceptedValues = (text: string, now = Date.now()): string[] =>
  valuesInForce(parseRotatingSecret(text), now);

/** A rotation from `current` to `next`: the old value stays in force for `overlapSeconds`. */
export function rotation(
  current: string,
  options: { overlapSeconds: number; next: string; now?: number },
): RotatingSecret {
  const previousUntil = new Date((options.now ?? Date.now()) + options.overlapSeconds * 1000).toISOString();
  return { current: options.next, previous: current, previousUntil };
}

/**
 * The stored text after a rotation to `next` (a new random value by default): the current value
 * becomes the previous one, accepted for `overlapSeconds` more.
 */
export function rotatedSecret(
  text: string,
  options: { overlapSeconds: number; next?: string; now?: number },
): { text: string; value: string; previousUntil: string } {
  const rotated = rotation(parseRotatingSecret(text).current, {
    ...options,
    next: options.next ?? randomBytes(24).toString('hex'),
  });
  return { text: JSON.stringify(rotated), value: rotated.current, previousUntil: rotated.previousUntil! };
}

/**
 * Checks a presented value against a secret read through a cache: on a mismatch, reads the
 * secret again (a client may already use a value rotated in after the cache was filled), at
 * most once per `refreshSeconds`, so wrong keys cannot hammer Secrets Manager. A new value is
 * thus accepted within seconds of a rotation, not after the cache's minutes.
 */
export function cachedSecretCheck(
  read: (fresh: boolean) => Promise<string>,
  refreshSeconds = 2,
): (matches: (value: string) => boolean) => Promise<boolean> {
  let lastFresh = 0;
  return async (matches) => {
    if (acceptedValues(await read(false)).some(matches)) return true;
    if (Date.now() - lastFresh < refreshSeconds * 1000) return false;
    lastFresh = Date.now();
    return acceptedValues(await read(true)).some(matches);
  };
}

/** Whether a presented value is the secret, in a time that does not depend on where they differ. */
export function sameSecret(given: string, secret: string): boolean {
  const left = Buffer.from(given);
  const right = Buffer.from(secret);
  return left.length === right.length && timingSafeEqual(left, right);
}
