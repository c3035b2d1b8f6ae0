import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  TerminalError,
  isTransient,
  publishEvent,
  readQueueMessage,
  webhookCatalogMarkdown,
  webhookTypesOfAlert,
  type BusEventDetail,
  type EventBus,
} from '@datacycle/core';

/** What an ingest queue message asks for (throws when it is not one). */
function parseIngestMessage(body: string) {
  const read = readQueueMessage('ingest', body);
  if (!read.ok) throw new Error(read.reason);
  return read.message;
}

const s3Event = (key: string, eventName = 'ObjectCreated:Put') =>
  JSON.stringify({
    Records: [
      {
        eventSource: 'aws:s3',
        eventName,
        s3: { bucket: { name: 'landing' }, object: { key, size: 10 } },
      },
    ],
  });

describe('events', () => {
  describe('parseIngestMessage', () => {
    it('decodes URL-encoded keys of S3 notifications', () => {
      expect(parseIngestMessage(s3Event('irve-statique/export+du+1%C3%A9r+mai.csv'))).toEqual([
        { kind: 'object', bucket: 'landing', key: 'irve-statique/export du 1ér mai.csv' },
      ]);
    });

    it('ignores the test event S3 sends when notifications are configured, and deletions', () => {
      expect(parseIngestMessage(JSON.stringify({ Event: 's3:TestEvent', Bucket: 'landing' }))).toEqual([
        { kind: 'ignore', reason: 's3:TestEvent' },
      ]);
      expect(parseIngestMessage(s3Event('a/b.csv', 'ObjectRemoved:Delete'))[0]).toMatchObject({
        kind: 'ignore',
      });
    });

    it('refuses a body that is not an S3 notification', () => {
      expect(() => parseIngestMessage('not json')).toThrow(/not JSON/);
      expect(() => parseIngestMessage('{"Records":[{"eventSource":"aws:sqs"}]}')).toThrow();
    });
  });
});

describe('errors', () => {
  describe('isTransient', () => {
    const withCode = (code: string) => Object.assign(new Error(code), { code });

    it('retries connection, lock and throttling problems', () => {
      expect(isTransient(withCode('08006'))).toBe(true); // connection failure
      expect(isTransient(withCode('40P01'))).toBe(true); // deadlock
      expect(isTransient(withCode('ECONNRESET'))).toBe(true);
      expect(isTransient(Object.assign(new Error('slow down'), { name: 'SlowDown' }))).toBe(true);
      expect(isTransient(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 503 } }))).toBe(true);
    });

    it('does not retry bad data or terminal errors', () => {
      expect(isTransient(withCode('22P02'))).toBe(false); // invalid text representation
      expect(isTransient(withCode('23505'))).toBe(false); // unique violation
      expect(isTransient(new TerminalError('bad file'))).toBe(false);
      expect(isTransient('a string')).toBe(false);
    });
  });
});

describe('the event contract', () => {
  it('documents the webhook catalogue in docs/api.md as the code declares it', () => {
    const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/api.md'), 'utf8');
    expect(doc).toContain(webhookCatalogMarkdown());
  });

  it('makes webhook events of the alert kinds the catalogue names, and none of internal ones', () => {
    expect(webhookTypesOfAlert('file-rejected')).toEqual(['dataset.failed', 'file.rejected']);
    expect(webhookTypesOfAlert('collect-failed')).toEqual(['dataset.failed', 'run.failed']);
    expect(webhookTypesOfAlert('dead-letter')).toEqual([]);
  });

  it('refuses to put an event on the bus whose detail breaks its schema', async () => {
    const sent: unknown[] = [];
    const bus = { name: 'bus', client: { send: async (command: unknown) => (sent.push(command), {}) } };
    await expect(
      publishEvent(bus as unknown as EventBus, 'datacycle.dataset.loaded', {
        dataset: 'irve',
      } as unknown as BusEventDetail<'datacycle.dataset.loaded'>),
    ).rejects.toThrow(/runId/);
    expect(sent).toEqual([]);
  });

  it('reads each queue with its own schema: a bus event on the wrong queue is refused', () => {
    const loaded = {
      id: 'e1',
      time: '2026-12-04T12:00:00Z',
      'detail-type': 'datacycle.dataset.loaded',
      detail: { dataset: 'irve', runId: 'r1', rows: 2 },
    };
    expect(readQueueMessage('transform', JSON.stringify(loaded))).toMatchObject({ ok: true });
    const wrong = readQueueMessage('publish', JSON.stringify(loaded));
    expect(wrong.ok).toBe(false);
    expect(!wrong.ok && wrong.reason).toMatch(/not a message of the publish queue/);
  });
});
