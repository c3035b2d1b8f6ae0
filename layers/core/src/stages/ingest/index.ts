export { ingestObject } from './ingest-object';
export type { IngestContext, IngestOutcome, Buckets } from './ingest-object';
export { ErrorCollector, ERRORS_KEPT_PER_TYPE } from './report';
export type { IngestReport, Verdict } from './report';
export { FileValidation, HeaderMismatch, validateFile, describeHeaderErrors } from './validate-file';
export { validationWorkers } from './validation-pool';
export type { ValidationResult, TableSummary } from './validate-file';
export { renderReportMarkdown } from './report-markdown';
