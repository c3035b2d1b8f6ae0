/**
 * @datacycle/core/validation-start — validation workers started before the validation code
 * loads (StartedValidationWorkers): nothing here loads more than Node.js's own modules, so
 * `datacycle validate` starts its workers first and they boot while the command loads
 * @datacycle/core/validation and reads the file's start.
 */
export {
  StartedValidationWorkers,
  WORKERS_AT_ONCE_BYTES,
  defaultValidationWorkers,
} from './stages/ingest/validation-threads';
