export {
  datasetSchema,
  projectSchema,
  sourceSchema,
  datasetIdPattern,
  updateFrequency,
  defaultRetrySchedule,
  retryScheduleSchema,
  webhookEventTypes,
  webhooksSchema,
} from './schema';
export type { DatasetConfig, ProjectConfig, SourceConfig } from './schema';
export { loadProject } from './load';
export type { Project, Dataset, ProjectIssue, ProjectLoadResult } from './load';
export { compileProject, parseCompiledProject, findDatasetByKey, compiledProjectSchema } from './compiled';
