export {
  datasetSchema,
  projectSchema,
  sourceSchema,
  datasetIdPattern,
  updateFrequency,
  defaultRetrySchedule,
  retryScheduleSchema,
  webhooksSchema,
  euDataThemeCodes,
} from './schema';
export type { DatasetConfig, ProjectConfig, SourceConfig } from './schema';
export { loadProject } from './load';
export type { Project, Dataset, ProjectIssue, ProjectLoadResult } from './types';
export {
  compileProject,
  parseCompiledProject,
  findDatasetByKey,
  compiledProjectSchema,
  unknownOutputs,
} from './compiled';
export { dataTestSchema, describeTest, parseRelationTarget, type DataTest } from './test-declarations';
export { downstreamModels, orderModels } from './model-graph';
export {
  modelHeaderSchema,
  parseModel,
  renderModelSql,
  type Chart,
  type Model,
  type ModelHeader,
} from './model';
export { freshnessLimitHours } from './freshness';
