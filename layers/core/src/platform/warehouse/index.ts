export { connect, createPool, inTransaction } from './pool';
export type { Pool, PoolClient, PoolOptions } from './pool';
export { connectionTls, sslModes, sslModeSchema } from './tls';
export type { SslMode, TlsDefaults } from './tls';
export { quoteIdent, qualified, datasetTableName } from './sql';
export { checkSchemaVersion, migrate, requiredSchemaVersion, SchemaBehindError } from './migrate';
export { migrations } from './migrations';
export type { Migration } from './migrations';
export { columnType, createTableSql, ensureTable, lineageColumns } from './ddl';
export { loadTable } from './load';
export type { LoadMode, TableLoad } from './load';
export {
  COPY_BINARY_HEADER,
  COPY_BINARY_TRAILER,
  CopyBinaryRows,
  CopyWriter,
  copyRowsOf,
} from './copy-binary';
export type { Lineage, ValidRow } from './copy-binary';
export { findForeignKeyViolations } from './foreign-keys';
export type { ForeignKeyViolation } from './foreign-keys';
export {
  assignRolesSql,
  DATABASE_ROLES,
  databaseRoles,
  enableLogins,
  ROLES_MIGRATION,
  scramVerifier,
} from './roles';
export type { DatabaseRole } from './roles';
