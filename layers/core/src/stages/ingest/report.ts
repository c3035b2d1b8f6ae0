import type { CsvDialect, DataTable } from '../../platform/formats';
import type { LabelError, RowError } from '../../platform/table-schema';
import type { ForeignKeyViolation } from '../../platform/warehouse';

export type Verdict = 'loaded' | 'rejected' | 'duplicate';

/** The validation report of one file: machine-readable, kept in the reports zone. */
export interface IngestReport {
  version: 1;
  runId: string;
  dataset: string;
  verdict: Verdict;
  summary: string;
  source: { bucket: string; key: string };
  raw?: { bucket: string; key: string };
  quarantine?: { bucket: string; key: string };
  sha256: string;
  sizeBytes: number;
  /** Dialect of the (first) CSV table, when the file is CSV. */
  dialect?: CsvDialect;
  /** What was read: one entry per table (several for a zip of several files). */
  tables?: Pick<DataTable, 'name' | 'format' | 'containers' | 'dialect' | 'sheet'>[];
  rows: { read: number; valid: number; invalid: number; loaded: number };
  errorCounts: Record<string, number>;
  /** The first errors of each type (see ERRORS_KEPT_PER_TYPE). */
  errors: ((
    LabelError | RowError | ForeignKeyViolation | { type: 'file-error'; message: string; hint?: string }
  ) & {
    file?: string;
  })[];
  startedAt: string;
  finishedAt: string;
}

export const ERRORS_KEPT_PER_TYPE = 50;

/** Counts every error, keeps the first few of each type: a bounded report for any file. */
export class ErrorCollector {
  readonly counts: Record<string, number> = {};
  readonly kept: IngestReport['errors'] = [];

  add(error: IngestReport['errors'][number]): void {
    const count = (this.counts[error.type] ?? 0) + 1;
    this.counts[error.type] = count;
    if (count <= ERRORS_KEPT_PER_TYPE) this.kept.push(error);
  }

  /** Adds errors of which only some were listed (e.g. counted by a database query). */
  addCounted(errors: IngestReport['errors'], total: number): void {
    errors.forEach((error) => this.add(error));
    const type = errors[0]?.type;
    if (type && total > errors.length) this.counts[type] = (this.counts[type] ?? 0) + total - errors.length;
  }

  /**
   * Adds what another collector found in the next part of the file (its first errors of each
   * type and its counts), with `extra` on each error: the same report as adding them all here.
   */
  merge(kept: readonly IngestReport['errors'][number][], counts: Record<string, number>, extra = {}): void {
    kept.forEach((error) => this.add({ ...error, ...extra }));
    for (const [type, count] of Object.entries(counts)) {
      const listed = kept.filter((error) => error.type === type).length;
      this.counts[type] = (this.counts[type] ?? 0) + count - listed;
    }
  }

  get total(): number {
    return Object.values(this.counts).reduce((sum, count) => sum + count, 0);
  }
}
