export { openDatabase, runtime, type Runtime } from './runtime';
export {
  batchHandler,
  deadLetterQueueOf,
  functionLogger,
  lambdaHandler,
  queueHandler,
  type HandlerTools,
} from './handlers';
