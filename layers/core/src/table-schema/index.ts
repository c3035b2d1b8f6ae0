export { tableSchemaSchema, fieldSchema, fieldTypes, asList } from './schema';
export type { TableSchema, Field, FieldType } from './schema';
export { checkHeader } from './header';
export type { HeaderCheck, LabelError } from './header';
export { compileField, truncate } from './cast';
export type { CastResult, CellErrorType, CompiledField } from './cast';
export { RowValidator } from './rows';
export type { RowClaim, RowError, RowResult } from './rows';
export { SchemaInference } from './infer';
