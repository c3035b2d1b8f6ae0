export { runDataTest, type TestResult } from './data-tests';
export { runTransform, type TransformContext, type TransformOutcome, type TransformRequest } from './run';
export { deleteDrained, drainBurst } from './coalesce';
export { EXCHANGE_PREFIX, type ModelExchange } from './external-model';
export {
  columnKinds,
  lambdaRunners,
  runnerAnswerSchema,
  type ColumnKind,
  type ModelRunners,
  type RunnerAnswer,
  type RunnerEvent,
} from './runners';
