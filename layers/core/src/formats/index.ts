export { openCsv } from './csv';
export { RecordSplitter } from './record-splitter';
export type { CsvTable, CsvDialect, CsvOptions } from './csv';
export { detectDelimiter, detectEncoding, peek } from './sniff';
export type { Encoding, Delimiter } from './sniff';
export { openTables, sniffKind } from './open';
export type { OpenOptions } from './open';
export { cellText, eachRow } from './table';
export type { DataTable, FileFormat, TableRow } from './table';
