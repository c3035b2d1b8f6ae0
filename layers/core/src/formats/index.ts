export { openCsv } from './csv';
export type { CsvTable, CsvDialect, CsvOptions } from './csv';
export { detectDelimiter, detectEncoding, peek } from './sniff';
export type { Encoding, Delimiter } from './sniff';
