export { runDataTest, type TestResult } from './data-tests';
export { runTransform, type TransformContext, type TransformOutcome, type TransformRequest } from './run';
export { deleteDrained, drainBurst } from './coalesce';
