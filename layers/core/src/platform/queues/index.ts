export {
  consumeQueue,
  consumeQueueAsOne,
  parkPoisonMessage,
  readQueueMessage,
  readQueueMessages,
  type ConsumeOptions,
  type DeadLetterQueue,
  type QueueItem,
  type ReadResult,
} from './consume';
