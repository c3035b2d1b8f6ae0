export {
  columnLineage,
  emitLineage,
  jobRunEvents,
  LINEAGE_PREFIX,
  OPENLINEAGE_SCHEMA_URL,
  outputStatistics,
  qualityAssertions,
  schemaFacets,
  type JobRun,
  type LineageDataset,
  type LineageSink,
  type RunEvent,
} from './openlineage';
