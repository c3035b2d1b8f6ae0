/**
 * Rotating the API key through the deployed stack with `datacycle rotate`: the API accepts the
 * new key within seconds (its cached copy is read again on a mismatch), keeps accepting the old one
 * during the overlap, and refuses any other. (The overlap's end is in secret-rotation's unit
 * test; ending it here would cut off the other suites holding the key.)
 */
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main';
import { callApi, eventually, readStackOutputs, sharedSecret } from '../helpers/local-cloud';

const outputs = readStackOutputs();

const subscriptionsWith = (key: string) =>
  callApi(outputs.ApiUrl, '/subscriptions', { headers: { authorization: `Bearer ${key}` } });

/** Runs the CLI, returning what it printed on stdout. */
async function cli(...args: string[]): Promise<{ code: number; printed: string; said: string }> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    const code = await main(args);
    const text = (calls: unknown[][]) => calls.map((call) => call.join(' ')).join('\n');
    return { code, printed: text(log.mock.calls), said: text(error.mock.calls) };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe('rotating the API key', () => {
  it('the new key works within seconds, the old one during the overlap, no other', async () => {
    const oldKey = await sharedSecret(outputs.ApiKeySecretArn);
    // The function reads the key now and caches it (five minutes).
    expect((await subscriptionsWith(oldKey)).status).toBe(200);

    const rotated = await cli('rotate', 'api-key', '--overlap-hours', '2');
    expect(rotated.code).toBe(0);
    const newKey = rotated.printed.trim();
    expect(newKey).toMatch(/^[0-9a-f]{48}$/);
    expect(await sharedSecret(outputs.ApiKeySecretArn)).toBe(newKey);

    // Within seconds (a container that has just read the key waits two before reading it
    // again), long before its cached copy expires (five minutes).
    await eventually(
      async () => ((await subscriptionsWith(newKey)).status === 200 ? true : undefined),
      10_000,
      'the new key',
    );
    expect((await subscriptionsWith(oldKey)).status).toBe(200);
    // The new key with its last character changed (to another one).
    const wrong = await subscriptionsWith(`${newKey.slice(0, -1)}${newKey.endsWith('0') ? '1' : '0'}`);
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toBe('Bearer realm="datacycle"');
    // `datacycle api-key` prints the current key, not the stored document.
    expect((await cli('api-key')).printed.trim()).toBe(newKey);
  });

  it('says what is wrong with a dataset that has no push secret', async () => {
    const refused = await cli('rotate', 'push', 'communes');
    expect(refused.code).toBe(1);
    expect(refused.said).toMatch(/dataset communes has no push secret[\s\S]*irve-statique/);
  });
});
