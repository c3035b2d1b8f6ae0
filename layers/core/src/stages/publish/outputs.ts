import type { Project } from '../../platform/project';
import type { TableSchema } from '../../platform/table-schema';
import { datasetTableName } from '../../platform/warehouse';
import type { CsvDialectOptions, ExportFormat } from './formats';

/** A dataset or a model, as published. */
export interface Output {
  kind: 'dataset' | 'model';
  /** Dataset id or model name: the folder under exports/. */
  name: string;
  relation: { schema: string; name: string };
  title: string;
  description?: string;
  licence: string;
  formats: ExportFormat[];
  csv: CsvDialectOptions;
  tableSchema?: TableSchema;
  columnDocs?: Record<string, string>;
}

/** The outputs of a project: its datasets, then its table and view models. */
export function projectOutputs(project: Project): Output[] {
  const licence = project.config.licence;
  return [
    ...project.datasets.map((dataset): Output => ({
      kind: 'dataset',
      name: dataset.id,
      relation: { schema: 'raw', name: datasetTableName(dataset.id) },
      title: dataset.config.title,
      description: dataset.config.description,
      licence: dataset.config.licence ?? licence,
      formats: dataset.config.exports,
      csv: dataset.config.csvExport,
      tableSchema: dataset.tableSchema,
    })),
    ...project.models.map((model): Output => ({
      kind: 'model',
      name: model.name,
      relation: { schema: 'enriched', name: model.name },
      title: model.header.title ?? model.header.description?.split('\n')[0] ?? model.name,
      description: model.header.description,
      licence,
      formats: model.header.exports,
      csv: { delimiter: ',', bom: false },
      columnDocs: model.header.columns,
    })),
  ];
}
