/**
 * A partner pushes a file to the deployed push endpoint (a Lambda function URL on
 * LocalStack), signed with the dataset's generated secret: it lands and is loaded.
 */
import { request } from 'node:http';
import { irveExample } from '../helpers/projects';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main';
import { signPush } from '@datacycle/core';
import { localstackPort } from '../../localcloud/settings';
import {
  eventually,
  readStackOutputs,
  recordedFile,
  sharedSecret,
  testPool,
  uniqueName,
} from '../helpers/local-cloud';

const example = irveExample;
const outputs = readStackOutputs();
const pool = testPool();
afterAll(() => pool.end());

/**
 * POST through LocalStack's gateway: function URLs are routed by host name, and there is no
 * DNS here. (Their host, "<id>.lambda-url.<region>.127.0.0.1:4566", is no valid WHATWG URL host.)
 */
function post(
  pathname: string,
  body: Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const target = { host: /^https?:\/\/([^/]+)\//.exec(outputs.PushUrl)![1]!, pathname };
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: localstackPort,
        method: 'POST',
        path: target.pathname,
        headers: { ...headers, host: target.host, 'content-type': 'text/csv' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString() || '{}'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function pushSecret(): Promise<string> {
  const arn = (JSON.parse(outputs.PushSecrets) as Record<string, string>)['irve-statique']!;
  return sharedSecret(arn);
}

describe('push endpoint on the deployed stack', () => {
  it('accepts a signed file, which is then loaded', async () => {
    const secret = await pushSecret();
    const marker = uniqueName('push');
    const body = Buffer.from(example.replace(/Picpus/g, `Picpus ${marker}`));
    const timestamp = Math.floor(Date.now() / 1000);

    const response = await post(`/irve-statique/${marker}.csv`, body, {
      'x-datacycle-timestamp': String(timestamp),
      'x-datacycle-signature': signPush(secret, timestamp, body),
    });

    expect(response.status).toBe(202);
    const key = response.body.key as string;
    expect(key).toMatch(new RegExp(`^irve-statique/.*-${marker}\\.csv$`));
    const file = await recordedFile(pool, key);
    expect(file).toMatchObject({ status: 'loaded', rows_loaded: '2' });
  });

  it('refuses a wrong signature and an unknown dataset, as problem+json', async () => {
    const body = Buffer.from(example);
    const timestamp = Math.floor(Date.now() / 1000);

    const forged = await post('/irve-statique/x.csv', body, {
      'x-datacycle-timestamp': String(timestamp),
      'x-datacycle-signature': signPush('not-the-secret', timestamp, body),
    });
    const unknown = await post('/departements/x.csv', body, {});

    expect(forged).toMatchObject({
      status: 401,
      body: { title: 'Unauthorized', detail: expect.stringMatching(/signature does not match/) },
    });
    expect(unknown).toMatchObject({ status: 404, body: { detail: 'dataset departements accepts no push' } });
  });

  it('hands out an upload URL for a file over 5 MB, which then loads like a drop', async () => {
    const secret = await pushSecret();
    const marker = uniqueName('big');
    const [header, row] = example.split('\n') as [string, string];
    // ~12 000 distinct charging points: more than a function URL request can carry.
    const rows = Array.from({ length: 12_000 }, (_, i) =>
      row
        .replace('FRA68E680210015', `FRA68E68${String(i).padStart(7, '0')}`)
        .replace(/Picpus/g, `Picpus ${marker}`),
    );
    const file = Buffer.from(`${header}\n${rows.join('\n')}\n`);
    expect(file.length).toBeGreaterThan(5 * 1024 * 1024);
    const ask = Buffer.from(JSON.stringify({ bytes: file.length }));
    const timestamp = Math.floor(Date.now() / 1000);

    const grant = await post(`/irve-statique/${marker}.csv/upload-url`, ask, {
      'x-datacycle-timestamp': String(timestamp),
      'x-datacycle-signature': signPush(secret, timestamp, ask),
    });

    expect(grant).toMatchObject({ status: 201, body: { method: 'PUT', expiresInSeconds: 900 } });
    const upload = await fetch(grant.body.url as string, { method: 'PUT', body: file });
    expect(upload.status).toBe(200);
    const loaded = await recordedFile(pool, grant.body.key as string, 120_000);
    expect(loaded).toMatchObject({ status: 'loaded', rows_loaded: '12000' });
  });

  it('keeps accepting the old secret during a rotation, and the new one at once', async () => {
    const oldSecret = await pushSecret();
    const ask = Buffer.from(JSON.stringify({ bytes: 6_000_000 }));
    const grantWith = (secret: string) => {
      const timestamp = Math.floor(Date.now() / 1000);
      return post(`/irve-statique/${uniqueName('rotation')}.csv/upload-url`, ask, {
        'x-datacycle-timestamp': String(timestamp),
        'x-datacycle-signature': signPush(secret, timestamp, ask),
      });
    };
    expect((await grantWith(oldSecret)).status).toBe(201);
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    let newSecret = '';
    try {
      expect(await main(['rotate', 'push', 'irve-statique', '--overlap-hours', '2'])).toBe(0);
      newSecret = String(log.mock.calls[0]![0]);
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
    expect(newSecret).not.toBe(oldSecret);
    expect(await pushSecret()).toBe(newSecret);
    // Within seconds (a container that has just read the secret waits two before reading it
    // again), long before its cached copy expires (five minutes).
    const started = Date.now();
    await eventually(
      async () => ((await grantWith(newSecret)).status === 201 ? true : undefined),
      10_000,
      'the new secret',
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await grantWith(oldSecret)).status).toBe(201);
    expect((await grantWith('not the secret')).status).toBe(401);
  });
});
