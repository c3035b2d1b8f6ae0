import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createLogger, type Logger } from '../platform/logging';
import {
  consumeQueue,
  consumeQueueAsOne,
  type ConsumeOptions,
  type DeadLetterQueue,
  type QueueItem,
} from '../platform/queues';
import type { QueueMessage, QueueName } from '../platform/events';
import type { Project } from '../platform/project';
import { runtime, type Runtime } from './runtime';

/** What every handler is given besides its event. */
export interface HandlerTools {
  platform: Runtime;
  /** The function's logger (its name and request id on every line; a message's run id and dataset too). */
  log: Logger;
}

type LoggedContext = Context & { log?: Logger };

/**
 * Middleware of every function: a logger named after the function and the request, set on
 * the context before the handler runs; an invocation that throws is logged as one JSON line
 * (what failed, not a stack trace in pieces) and still fails.
 */
export function functionLogger(name: string): middy.MiddlewareObj<unknown, unknown, Error, LoggedContext> {
  return {
    before: (request) => {
      request.context.log = createLogger({ function: name, requestId: request.context.awsRequestId });
    },
    onError: (request) => {
      const log = request.context.log ?? createLogger({ function: name });
      log.error('invocation failed', { error: request.error ?? undefined });
    },
  };
}

/** A Lambda handler: the function's logic with its tools, wrapped by the middleware every function has. */
export function lambdaHandler<E, R>(name: string, handle: (event: E, tools: HandlerTools) => Promise<R>) {
  return middy<E, R, Error, LoggedContext>(async (event: E, context: LoggedContext) =>
    handle(event, { platform: runtime(), log: context.log ?? createLogger({ function: name }) }),
  ).use(functionLogger(name) as middy.MiddlewareObj<E, R, Error, LoggedContext>);
}

/** The consumer's DLQ, where poison messages are parked at once (set on every queue consumer by the stack). */
export function deadLetterQueueOf(platform: Runtime): DeadLetterQueue | undefined {
  const url = platform.env.DEAD_LETTER_QUEUE_URL;
  return url ? { sqs: platform.sqs(), url, maxReceiveCount: platform.env.MAX_RECEIVE_COUNT } : undefined;
}

type ConsumerOptions<Q extends QueueName> = Pick<ConsumeOptions<Q>, 'concurrency' | 'describe'> & {
  /** Why a well-formed message can never be handled by the deployed project (see ConsumeOptions.refuse). */
  refuse?: (message: QueueMessage<Q>, project: Project) => string | undefined;
};

/** The batch path's options for one invocation: the queue, its DLQ, the consumer's own. */
export function consumeOptionsOf<Q extends QueueName>(
  queue: Q,
  tools: HandlerTools,
  { refuse, ...options }: ConsumerOptions<Q>,
): ConsumeOptions<Q> {
  return {
    ...options,
    queue,
    log: tools.log,
    deadLetterQueue: deadLetterQueueOf(tools.platform),
    refuse: refuse && ((message) => refuse(message, tools.platform.project)),
  };
}

/** A queue consumer that handles its messages one by one, through the one batch path (consumeQueue). */
export function queueHandler<Q extends QueueName>(
  name: string,
  queue: Q,
  handle: (message: QueueMessage<Q>, tools: HandlerTools & { item: QueueItem<Q> }) => Promise<void>,
  options: ConsumerOptions<Q> = {},
) {
  return lambdaHandler<SQSEvent, SQSBatchResponse>(name, (event, tools) =>
    consumeQueue(event, consumeOptionsOf(queue, tools, options), (message, item) =>
      handle(message, { ...tools, log: item.log, item }),
    ),
  );
}

/**
 * A queue consumer that handles a batch in one go (consumeQueueAsOne). It is given the batch
 * path's options (`consume`) to read messages it fetches itself the same way.
 */
export function batchHandler<Q extends QueueName>(
  name: string,
  queue: Q,
  handle: (
    items: QueueItem<Q>[],
    tools: HandlerTools & { event: SQSEvent; consume: ConsumeOptions<Q> },
  ) => Promise<void>,
  options: ConsumerOptions<Q> = {},
) {
  return lambdaHandler<SQSEvent, SQSBatchResponse>(name, (event, tools) => {
    const consume = consumeOptionsOf(queue, tools, options);
    return consumeQueueAsOne(event, consume, (items) => handle(items, { ...tools, event, consume }));
  });
}
