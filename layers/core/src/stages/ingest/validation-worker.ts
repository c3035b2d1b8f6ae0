/**
 * A validation worker thread (see ValidationPool): told by its first message which table it
 * validates, it then decodes, parses, validates and encodes the runs of CSV records it is sent,
 * and hands back their COPY bytes, errors and claims, with the runs themselves (their bytes
 * were transferred here).
 */
import { parentPort } from 'node:worker_threads';
import { TerminalError } from '../../platform/errors/errors';
import { parseCsvRun } from '../../platform/formats/csv-records';
import type { CsvRun } from '../../platform/formats/record-splitter';
import { runTextReader } from '../../platform/formats/run-text';
import type { RowClaim, RowError } from '../../platform/table-schema/rows';
import { CopyWriter } from '../../platform/warehouse/copy-binary';
import { BatchValidation } from './batch-validation';
import { DirectRows } from './direct-rows';
import { ERRORS_KEPT_PER_TYPE } from './report';
import type {
  RunJob,
  RunOutcome,
  RunReply,
  SpareCopyBuffer,
  WorkerSetup,
  WorkerStart,
} from './validation-pool';

/** The job handler, once the setup (the first message) is read. */
let ready: Promise<(job: RunJob) => void> | undefined;

/** COPY buffers sent earlier and given back, written (see ValidationPool.takeBack). */
const spares: ArrayBuffer[] = [];
/** Spares kept at most: a worker has a few jobs in flight. */
const MAX_SPARES = 8;

// Jobs are taken in the order they came: each waits for the setup, read once.
parentPort!.on('message', (message: WorkerStart | RunJob | SpareCopyBuffer) => {
  if ('spare' in message) {
    if (spares.length < MAX_SPARES) spares.push(message.spare);
  } else if ('setup' in message) ready = jobHandler(message.setup);
  else void ready!.then((validateJob) => validateJob(message));
});

async function jobHandler({ table, delimiter, reading }: WorkerSetup): Promise<(job: RunJob) => void> {
  const validation = new BatchValidation(table, true);
  const output = new CopyWriter(undefined, () => spares.pop());
  /** Made once, before the first job (Windows-1252 loads its decoder). */
  const textOf = await runTextReader(reading);
  /**
   * Errors of each type sent so far. The reading thread takes jobs in file order, so once this
   * worker has sent it ERRORS_KEPT_PER_TYPE of a type, its report holds that many already:
   * later ones are only counted (sparing their copy between threads).
   */
  const sent = new Map<string, number>();
  /** Valid rows are encoded for COPY (a load), unchanged cells copied from their bytes. */
  const encodes = table.lineage !== undefined;
  /** The usual rows, straight from their bytes (not with unique values: they need claims). */
  const direct = DirectRows.of(table, delimiter, validation.validator.checksUniqueness);

  return ({ id, runs }) => {
    const kept: RowError[] = [];
    const counts: Record<string, number> = {};
    const onError = (error: RowError) => {
      counts[error.type] = (counts[error.type] ?? 0) + 1;
      const before = sent.get(error.type) ?? 0;
      if (before >= ERRORS_KEPT_PER_TYPE) return;
      sent.set(error.type, before + 1);
      kept.push(error);
    };
    let read = 0;
    let valid = 0;
    let claims: RowClaim[] | undefined;
    let failure: RunOutcome['failure'];
    try {
      const general = (run: CsvRun, rowError = onError) => {
        const batch = parseCsvRun(run, delimiter, textOf, encodes);
        const validated = validation.validate(batch, rowError, encodes ? output : undefined);
        read += batch.length;
        valid += validated.valid;
        if (validated.claims) claims = claims ? claims.concat(validated.claims) : validated.claims;
      };
      for (const run of runs) {
        const { text, bytes } = direct !== undefined ? textOf(run.bytes) : { text: '', bytes: undefined };
        if (bytes === undefined) {
          general(run);
          continue;
        }
        // A run that cannot be read fails whole, as without DirectRows: nothing of it counts.
        const before = { length: output.length, read, valid };
        const runErrors: RowError[] = [];
        try {
          const to = encodes ? output : undefined;
          const written = direct!.load(run, text, to, (row) => general(row, (e) => runErrors.push(e)));
          read += written;
          valid += written;
        } catch {
          ({ read, valid } = before);
          output.length = before.length;
          general(run);
          continue;
        }
        runErrors.forEach(onError);
      }
    } catch (error) {
      failure = {
        message: error instanceof Error ? error.message : String(error),
        hint: error instanceof TerminalError ? error.hint : undefined,
        terminal: error instanceof TerminalError,
      };
    }
    const copy = output.take();
    const reply: RunReply = { id, copy, read, valid, kept, counts, claims, failure, runs };
    parentPort!.postMessage(reply, [copy.buffer, ...runs.map((run) => run.bytes.buffer as ArrayBuffer)]);
  };
}
