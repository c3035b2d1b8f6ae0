import { describe, expect, it } from 'vitest';
import {
  acceptedValues,
  receivePush,
  rotatedSecret,
  signPush,
  type CollectContext,
  type SecretCheck,
} from '@datacycle/core';
import { testProject } from '../helpers/projects';

// Refusals happen before anything is stored, so these cases need no bucket and no database.
const unused = {} as CollectContext;
const project = testProject([
  {
    id: 'bornes',
    schema: { fields: [{ name: 'id' }] },
    config: { sources: [{ type: 'push', auth: 'hmac' }] },
  },
  {
    id: 'zones',
    schema: { fields: [{ name: 'id' }] },
    config: { sources: [{ type: 'push', auth: 'api-key' }] },
  },
]);
// The dataset's secret in rotation: a new value, the old one still accepted for an hour.
let stored = 'the-secret';
const secretOf: SecretCheck = async (_datasetId, matches) => acceptedValues(stored, now).some(matches);
const body = Buffer.from('id\n1\n');
const now = Date.UTC(2026, 10, 28, 12);
const at = Math.floor(now / 1000);

const push = (path: string, headers: Record<string, string>, content = body, method = 'POST') =>
  receivePush(unused, project, { method, path, headers, body: content }, secretOf, now);

describe('receivePush', () => {
  it('refuses a signature made with another secret', async () => {
    const response = await push('/bornes/a.csv', {
      'x-datacycle-timestamp': String(at),
      'x-datacycle-signature': signPush('other', at, body),
    });
    expect(response).toMatchObject({
      status: 401,
      body: { detail: expect.stringMatching(/does not match/) },
    });
  });

  it('after a rotation whose overlap has ended, refuses the old secret (and a key that was never one)', async () => {
    stored = rotatedSecret('the-secret', {
      overlapSeconds: 60,
      now: now - 3_600_000,
      next: 'the-new-secret',
    }).text;
    try {
      const old = await push('/bornes/a.csv', {
        'x-datacycle-timestamp': String(at),
        'x-datacycle-signature': signPush('the-secret', at, body),
      });
      expect(old).toMatchObject({ status: 401, body: { detail: expect.stringMatching(/does not match/) } });
      const wrongKey = await push('/zones/a.csv', { 'x-api-key': 'the-secret' });
      expect(wrongKey.status).toBe(401);
    } finally {
      stored = 'the-secret';
    }
  });

  it('refuses a replayed request outside the tolerance window', async () => {
    const old = at - 301;
    const response = await push('/bornes/a.csv', {
      'x-datacycle-timestamp': String(old),
      'x-datacycle-signature': signPush('the-secret', old, body),
    });
    expect(response).toMatchObject({
      status: 401,
      body: { detail: expect.stringMatching(/more than 300 s away/) },
    });
  });

  it('refuses a signature over another body', async () => {
    const response = await push('/bornes/a.csv', {
      'x-datacycle-timestamp': String(at),
      'x-datacycle-signature': signPush('the-secret', at, Buffer.from('id\n2\n')),
    });
    expect(response.status).toBe(401);
  });

  it('checks the API key of api-key datasets', async () => {
    expect((await push('/zones/a.csv', { 'x-api-key': 'wrong' })).status).toBe(401);
  });

  it('answers 404, 405, 400 and 413 with a problem document', async () => {
    const signed = (content: Buffer) => ({
      'x-datacycle-timestamp': String(at),
      'x-datacycle-signature': signPush('the-secret', at, content),
    });
    expect((await push('/nope/a.csv', {})).status).toBe(404);
    expect((await push('/bornes', {})).status).toBe(404);
    expect((await push('/bornes/a.csv', {}, body, 'GET')).status).toBe(405);
    expect((await push('/bornes/a.csv', signed(Buffer.alloc(0)), Buffer.alloc(0))).status).toBe(400);
    const big = Buffer.alloc(5 * 1024 * 1024 + 1, 0x61);
    expect(await push('/bornes/a.csv', signed(big), big)).toMatchObject({
      status: 413,
      body: { title: 'Content Too Large', detail: expect.stringContaining('/bornes/a.csv/upload-url') },
    });
  });

  it('asks for the size of a large file before handing out an upload URL, and signs that request too', async () => {
    const ask = (content: string) => Buffer.from(content);
    const signed = (content: Buffer) => ({
      'x-datacycle-timestamp': String(at),
      'x-datacycle-signature': signPush('the-secret', at, content),
    });
    expect((await push('/bornes/a.csv/upload-url', {}, ask('{"bytes": 10}'))).status).toBe(401);
    for (const content of ['', 'not json', '{"bytes": -1}', '{"bytes": 6000000000}']) {
      expect(await push('/bornes/a.csv/upload-url', signed(ask(content)), ask(content))).toMatchObject({
        status: 400,
        body: { detail: expect.stringContaining('"bytes"') },
      });
    }
  });
});
