export { dataTestSchema, describeTest, type DataTest } from './declarations';
export { freshnessLimitHours, runDataTest, type TestResult } from './data-tests';
export { downstreamModels, orderModels } from './graph';
export {
  modelHeaderSchema,
  parseModel,
  renderModelSql,
  type Chart,
  type Model,
  type ModelHeader,
} from './model';
export { runTransform, type TransformContext, type TransformOutcome, type TransformRequest } from './run';
export { deleteDrained, drainBurst } from './coalesce';
