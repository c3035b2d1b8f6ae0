/**
 * @datacycle/core/validation — reading, validating and inferring data files offline: no
 * database, no cloud client. The `validate` and `infer` commands import this surface rather
 * than the whole library, so that they start without loading pg and the AWS SDK (about
 * 0.3 s and 50 MB of a `datacycle validate` run, issue 22).
 */
export { tableSchemaSchema, SchemaInference } from './platform/table-schema';
export type { TableSchema } from './platform/table-schema';
export { eachRow, openTables } from './platform/formats';
export type { Delimiter, Encoding } from './platform/formats';
export { validateFile } from './stages/ingest/validate-file';
export type { ValidationResult } from './stages/ingest/validate-file';
