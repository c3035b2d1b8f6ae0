/**
 * Shared secrets in rotation (the API key, push secrets): the previous value works during the
 * overlap and stops after it; a checker reading through a cache reads again on a mismatch, but
 * not more than once per refresh interval.
 */
import { describe, expect, it } from 'vitest';
import { acceptedValues, cachedSecretCheck, parseRotatingSecret, rotatedSecret } from '@datacycle/core';

const now = Date.UTC(2026, 11, 5, 12);

describe('rotating secrets', () => {
  it('reads a bare value as a secret never rotated', () => {
    expect(parseRotatingSecret('  abc\n')).toEqual({ current: 'abc' });
    expect(acceptedValues('abc', now)).toEqual(['abc']);
  });

  it('accepts the previous value during the overlap only', () => {
    const { text, value, previousUntil } = rotatedSecret('first', { overlapSeconds: 3600, now });
    expect(value).toMatch(/^[0-9a-f]{48}$/);
    expect(previousUntil).toBe('2026-12-05T13:00:00.000Z');
    expect(acceptedValues(text, now + 3_599_000)).toEqual([value, 'first']);
    expect(acceptedValues(text, now + 3_600_000)).toEqual([value]);
  });

  it('a second rotation retires the first value at once, whatever its overlap was', () => {
    const once = rotatedSecret('first', { overlapSeconds: 86_400, now, next: 'second' });
    const twice = rotatedSecret(once.text, { overlapSeconds: 86_400, now, next: 'third' });
    expect(acceptedValues(twice.text, now)).toEqual(['third', 'second']);
  });

  it('refuses a stored document that is not a rotating secret', () => {
    expect(() => parseRotatingSecret('{"previous": "x"}')).toThrow();
  });

  it('a checker reads the secret again on a mismatch, at most once per refresh interval', async () => {
    let stored = 'old';
    const reads: boolean[] = [];
    let cached = stored;
    const check = cachedSecretCheck(async (fresh) => {
      reads.push(fresh);
      if (fresh) cached = stored;
      return cached;
    }, 3600);
    expect(await check((value) => value === 'old')).toBe(true);
    stored = rotatedSecret('old', { overlapSeconds: 60, next: 'new' }).text;
    // The cache still holds "old": the new value is found by reading again.
    expect(await check((value) => value === 'new')).toBe(true); // read again: the first miss
    expect(await check((value) => value === 'old')).toBe(true);
    // A wrong value within the interval does not read again.
    expect(await check((value) => value === 'wrong')).toBe(false);
    expect(reads.filter(Boolean)).toHaveLength(1);
  });
});
