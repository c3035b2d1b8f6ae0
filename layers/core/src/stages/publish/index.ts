export { mediaTypes, type ExportFormat } from './formats';
export { exportColumns } from './columns';
export { BinaryCopyParser, readCell, type CellBatch, type CellType } from './copy-rows';
export { ByteOutput, Markup, viewOf, type ByteSource } from './byte-output';
export { ZipWriter } from './zip-writer';
export { writeParquet, ROW_GROUP_ROWS } from './parquet-writer';
export type { ExportColumn } from './columns';
export { catalogDocument, catalogTurtle, publishCatalog } from './catalog';
export { mapFeatureLimit, publishPortal } from './portal';
export { projectOutputs, type Output } from './outputs';
export {
  publicationVersion,
  publishOutput,
  publishPass,
  writeExport,
  type Publication,
  type PublishedFile,
} from './publish-pass';
