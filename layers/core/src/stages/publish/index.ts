export { mediaTypes, type ExportFormat } from './formats';
export { catalogDocument, catalogTurtle, publishCatalog } from './catalog';
export { mapFeatureLimit, publishPortal } from './portal';
export { projectOutputs, type Output } from './outputs';
export {
  publicationVersion,
  publishOutput,
  publishPass,
  type Publication,
  type PublishedFile,
} from './publish-pass';
