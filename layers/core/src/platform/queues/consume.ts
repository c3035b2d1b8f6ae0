import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { TerminalError, errorMessage, isTransient } from '../errors';
import { queueMessages, type QueueMessage, type QueueName } from '../events';
import type { Logger } from '../logging';

/** Where a queue's poison messages are parked at once: its dead-letter queue. */
export interface DeadLetterQueue {
  sqs: SQSClient;
  url: string;
  /**
   * The queue's redrive policy: deliveries before SQS moves a message here on its own, without
   * a word. A message that fails its last one is parked by the batch path instead, with why.
   */
  maxReceiveCount?: number;
}

export interface ConsumeOptions<Q extends QueueName> {
  /** Which queue: its messages are parsed with queueMessages[queue]. */
  queue: Q;
  log: Logger;
  /**
   * A message that can never be handled (not JSON, not the queue's shape, or a TerminalError)
   * is sent here at once, with the reason, rather than retried until SQS's redrive policy
   * moves it. Without it, such a message fails until the redrive policy does.
   */
  deadLetterQueue?: DeadLetterQueue;
  /** Messages handled at the same time (1: one after the other, in the batch's order). */
  concurrency?: number;
  /** Fields for the message's log lines (its run id, its dataset). */
  describe?: (message: QueueMessage<Q>) => Record<string, unknown>;
  /**
   * Why a message of the right shape can still never be handled here (it names a dataset the
   * deployed project does not have: sent by another version of it): parked like a poison one.
   */
  refuse?: (message: QueueMessage<Q>) => string | undefined;
}

/** A message as it came, with what it says once parsed. */
export interface QueueItem<Q extends QueueName> {
  record: Pick<SQSRecord, 'messageId' | 'body'>;
  message: QueueMessage<Q>;
  log: Logger;
  /**
   * SQS handed this message out before and it was not deleted: the earlier attempt failed, or
   * its function died (killed, out of memory, timed out) without a word.
   */
  redelivered: boolean;
  /** This delivery's number (ApproximateReceiveCount): 1 the first time. */
  receiveCount: number;
}

type ReceivedRecord = Pick<SQSRecord, 'messageId' | 'body'> & {
  attributes?: Partial<Pick<SQSRecord['attributes'], 'ApproximateReceiveCount'>>;
};

export type ReadResult<Q extends QueueName> =
  { ok: true; message: QueueMessage<Q> } | { ok: false; reason: string };

/** Parses one message body with its queue's schema; says why when it is not one. */
export function readQueueMessage<Q extends QueueName>(queue: Q, body: string): ReadResult<Q> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: `not JSON: ${body.slice(0, 120)}` };
  }
  const parsed = queueMessages[queue].safeParse(json);
  if (!parsed.success)
    return { ok: false, reason: `not a message of the ${queue} queue: ${z.prettifyError(parsed.error)}` };
  return { ok: true, message: parsed.data as QueueMessage<Q> };
}

/**
 * Parks a message that can never be handled in the dead-letter queue, with why, from where
 * `datacycle redrive` brings it back after a fix. Returns false when it could not.
 */
export async function parkPoisonMessage(
  options: Pick<ConsumeOptions<QueueName>, 'queue' | 'log' | 'deadLetterQueue'>,
  record: Pick<SQSRecord, 'messageId' | 'body'>,
  reason: string,
): Promise<boolean> {
  const { log, deadLetterQueue } = options;
  if (!deadLetterQueue) {
    log.error('message cannot be handled; left to the redrive policy', {
      messageId: record.messageId,
      reason,
    });
    return false;
  }
  try {
    await deadLetterQueue.sqs.send(
      new SendMessageCommand({
        QueueUrl: deadLetterQueue.url,
        MessageBody: record.body,
        MessageAttributes: {
          'datacycle-error': { DataType: 'String', StringValue: reason.slice(0, 1000) },
          'datacycle-queue': { DataType: 'String', StringValue: options.queue },
          'datacycle-message-id': { DataType: 'String', StringValue: record.messageId },
        },
      }),
    );
    log.error('message cannot be handled: parked in the dead-letter queue', {
      messageId: record.messageId,
      reason,
      hint: 'fix the cause, then replay it: datacycle redrive',
    });
    return true;
  } catch (error) {
    log.error('message cannot be handled and could not be parked; left to the redrive policy', {
      messageId: record.messageId,
      reason,
      error,
    });
    return false;
  }
}

/**
 * Decides a failed message's fate, the same way for every queue: a TerminalError is parked
 * in the DLQ (a retry would fail the same way), anything else is retried by SQS (a batch
 * item failure), up to the queue's redrive policy: on its last delivery it is parked with
 * the error, rather than moved by SQS without one.
 */
async function failureOf(
  options: ConsumeOptions<QueueName>,
  item: Pick<QueueItem<QueueName>, 'record' | 'log' | 'receiveCount'>,
  error: unknown,
): Promise<string | undefined> {
  const park = async (reason: string) =>
    (await parkPoisonMessage({ ...options, log: item.log }, item.record, reason))
      ? undefined
      : item.record.messageId;
  if (error instanceof TerminalError)
    return park(error.hint ? `${error.message} (${error.hint})` : error.message);
  const deliveries = options.deadLetterQueue?.maxReceiveCount;
  if (deliveries && item.receiveCount >= deliveries)
    return park(
      `failed on each of its ${deliveries} deliveries, the last with: ${errorMessage(error)} ` +
        '(fix the cause, then replay it: datacycle redrive)',
    );
  item.log.error(isTransient(error) ? 'failed, will retry' : 'failed unexpectedly, will retry', {
    messageId: item.record.messageId,
    error,
    transient: isTransient(error),
  });
  return item.record.messageId;
}

/** Parses a batch: the good messages, each with its logger; the poison ones parked (or failed). */
async function readBatch<Q extends QueueName>(
  records: ReceivedRecord[],
  options: ConsumeOptions<Q>,
): Promise<{ items: QueueItem<Q>[]; failures: string[] }> {
  const items: QueueItem<Q>[] = [];
  const failures: string[] = [];
  for (const record of records) {
    const read = readQueueMessage(options.queue, record.body);
    const refused = read.ok ? options.refuse?.(read.message) : undefined;
    if (read.ok && !refused) {
      const fields = { messageId: record.messageId, ...options.describe?.(read.message) };
      const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? 1) || 1;
      items.push({
        record,
        message: read.message,
        log: options.log.child(fields),
        redelivered: receiveCount > 1,
        receiveCount,
      });
    } else if (!(await parkPoisonMessage(options, record, read.ok ? refused! : read.reason)))
      failures.push(record.messageId);
  }
  return { items, failures };
}

/**
 * The one SQS batch path of every queue consumer: each message parsed with its queue's
 * schema, handled (`concurrency` at a time), and reported one by one, so that only the
 * messages that failed come back (batchItemFailures; the event source mapping reports
 * partial batch failures). Poison messages and terminal errors go to the DLQ at once.
 */
export async function consumeQueue<Q extends QueueName>(
  event: Pick<SQSEvent, 'Records'>,
  options: ConsumeOptions<Q>,
  handle: (message: QueueMessage<Q>, item: QueueItem<Q>) => Promise<void>,
): Promise<SQSBatchResponse> {
  const { items, failures } = await readBatch(event.Records, options);
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item; item = queue.shift()) {
      try {
        await handle(item.message, item);
      } catch (error) {
        const failed = await failureOf(options as ConsumeOptions<QueueName>, item, error);
        if (failed) failures.push(failed);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 1) }, worker));
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
}

/**
 * The same path for a consumer that handles a whole batch in one go (the transform pass
 * takes a burst of loads at once): poison messages are parked, the rest handed over
 * together, and all of them fail together when the handler throws.
 */
export async function consumeQueueAsOne<Q extends QueueName>(
  event: Pick<SQSEvent, 'Records'>,
  options: ConsumeOptions<Q>,
  handle: (items: QueueItem<Q>[]) => Promise<void>,
): Promise<SQSBatchResponse> {
  const { items, failures } = await readBatch(event.Records, options);
  if (items.length > 0) {
    try {
      await handle(items);
    } catch (error) {
      for (const item of items) {
        const failed = await failureOf(options as ConsumeOptions<QueueName>, item, error);
        if (failed) failures.push(failed);
      }
    }
  }
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
}

/**
 * Parses messages received outside the event (a drained burst): the good ones, the poison
 * ones parked; `failures` are those that could not be parked (leave them on the queue).
 */
export const readQueueMessages = readBatch;
