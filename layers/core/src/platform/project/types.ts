import type { TableSchema } from '../table-schema';
import type { Model } from './model';
import type { DatasetConfig, ProjectConfig } from './schema';

/** One problem in a data project: which file, where inside it, what was expected. */
export interface ProjectIssue {
  file: string;
  path: string;
  message: string;
}

export interface Dataset {
  id: string;
  config: DatasetConfig;
  tableSchema: TableSchema;
}

export interface Project {
  config: ProjectConfig;
  datasets: Dataset[];
  /** Models of models/*.{sql,py,R}, in dependency order (each after the models it refs). */
  models: Model[];
}

export type ProjectLoadResult = { ok: true; project: Project } | { ok: false; issues: ProjectIssue[] };
