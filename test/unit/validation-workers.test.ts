/**
 * Validation in worker threads must give what validation in the reading thread gives: the
 * same row counts, the same errors word for word (the first of each type kept, in file
 * order), the same COPY bytes, the same failures. Checked on IRVE files with invalid rows,
 * with unique values and primary keys repeated within and across runs, in UTF-8 read as
 * bytes and in Windows-1252.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import {
  FileValidation,
  TerminalError,
  openTables,
  tableSchemaSchema,
  validationWorkers,
  type TableSchema,
} from '@datacycle/core';
import { generateIrveCsv } from '../../bench/irve-generator';
import { ValidationPool } from '../../layers/core/src/stages/ingest/validation-pool';
import { StartedValidationWorkers } from '@datacycle/core/validation-start';
import { startValidationWorker } from '../../layers/core/src/stages/ingest/validation-threads';
import { bundleCoreLayer } from '../../cdk/bundle';

const irve = tableSchemaSchema.parse(
  JSON.parse(readFileSync('examples/territoires/schemas/irve-statique.json', 'utf8')),
);
/** The IRVE schema with one field declared unique. */
const withUnique = (name: string): TableSchema => ({
  ...irve,
  fields: irve.fields.map((field) =>
    field.name === name ? { ...field, constraints: { ...field.constraints, unique: true } } : field,
  ),
});
/** Its point identifier unique. */
const uniqueId = withUnique('id_pdc_itinerance');
/** The same, with (point, local station) as primary key: its second part is optional. */
const keyed: TableSchema = { ...irve, primaryKey: ['id_pdc_itinerance', 'id_station_local'] };
const lineage = { loadId: '0f8fad5b-d9cb-469f-a165-70867728950e', sourceKey: 'k.csv' };

let dir: string;
let file: Buffer;
/** Without invalid rows: each repeat made below is the only error of its row. */
let validFile: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'datacycle-workers-'));
  await generateIrveCsv(path.join(dir, 'irve.csv'), 6000, 0.05);
  file = await readFile(path.join(dir, 'irve.csv'));
  await generateIrveCsv(path.join(dir, 'valid.csv'), 6000, 0);
  validFile = await readFile(path.join(dir, 'valid.csv'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function validate(
  bytes: Buffer,
  schema: TableSchema,
  workers: number,
  name = 'irve.csv',
  started?: StartedValidationWorkers,
  /** Give each chunk back once copied, as a load does once its connection took it. */
  release = false,
  /** Rows loaded (COPY bytes) or only validated (`datacycle validate`). */
  loads = true,
) {
  // Workers from the first run on, so that a small file has many runs in flight.
  const validation = new FileValidation(schema, 'test', { workers, workersAfterBytes: 0, started });
  const output: Buffer[] = [];
  let givenBack = 0;
  const pieces = Array.from({ length: Math.ceil(bytes.length / 5000) }, (_, i) =>
    bytes.subarray(i * 5000, (i + 1) * 5000),
  );
  const tables = openTables(Readable.from(pieces), { name, csv: { utf8Bytes: true } });
  let failure: unknown;
  try {
    for await (const chunk of validation.copyRows(tables, loads ? lineage : undefined)) {
      if (!release) {
        output.push(chunk);
        continue;
      }
      output.push(Buffer.from(chunk));
      const before = chunk.buffer.byteLength;
      validation.released(chunk);
      // A worker's buffer moves back to it (this view is then detached); others stay.
      if (chunk.buffer.byteLength === 0 && before > 0) givenBack++;
    }
  } catch (error) {
    failure = error;
  }
  return {
    rows: validation.rows,
    counts: validation.collector.counts,
    errors: validation.collector.kept,
    copy: Buffer.concat(output),
    failure,
    givenBack,
  };
}

async function expectSameAsOneThread(bytes: Buffer, schema: TableSchema) {
  const here = await validate(bytes, schema, 0);
  const workers = await validate(bytes, schema, 2);
  expect(workers.failure).toEqual(here.failure);
  expect(workers.rows).toEqual(here.rows);
  expect(workers.counts).toEqual(here.counts);
  expect(workers.errors).toEqual(here.errors);
  // A failed file loads nothing: what was sent to COPY before the failure does not count.
  if (here.failure === undefined) expect(workers.copy.equals(here.copy)).toBe(true);
  return here;
}

/** Lines of a file: the header, then data rows. */
const lines = (bytes = file) => bytes.toString('utf8').split('\n');

describe('validation in worker threads', () => {
  it('validates and encodes an IRVE file as the reading thread does', async () => {
    const result = await expectSameAsOneThread(file, irve);
    expect(result.rows.read).toBe(6000);
    expect(result.rows.invalid).toBeGreaterThan(100);
    // More than the kept 50 of a type: the merge of counts is exercised.
    expect(Math.max(...Object.values(result.counts))).toBeGreaterThan(50);
  });

  describe('unique values and primary keys, repeated within a run and across runs', () => {
    // A row repeated right after itself (same run), one from the start repeated at the end.
    const withRepeats = (data: string[]) => [
      ...data.slice(0, 3000),
      data[2999]!,
      ...data.slice(3000),
      data[5]!,
    ];
    const csv = (header: string, data: string[]) => Buffer.from([header, ...data].join('\n') + '\n');

    it('unique values', async () => {
      const [header, ...data] = lines(validFile).slice(0, -1);
      const result = await expectSameAsOneThread(csv(header!, withRepeats(data)), uniqueId);
      expect(result.counts).toEqual({ 'unique-error': 2 });
      // Without repeats, the workers' claims go through as they are.
      expect((await expectSameAsOneThread(validFile, uniqueId)).counts).toEqual({});
    });

    it('primary keys, an empty part included', async () => {
      const [header, ...data] = lines(validFile).slice(0, -1);
      // The optional local station identifier (empty in the generated file) filled in, but
      // on one row: an empty part of the primary key.
      const local = (line: string, id: string) => line.replace(/^((?:[^,]*,){8})[^,]*/, `$1${id}`);
      const filled = data.map((line, index) => local(line, index === 4000 ? '' : 'L1'));
      const result = await expectSameAsOneThread(csv(header!, withRepeats(filled)), keyed);
      expect(result.counts).toEqual({ 'primary-key': 3 });
      expect(result.errors).toContainEqual(
        expect.objectContaining({
          type: 'primary-key',
          rowNumber: 4003,
          message: expect.stringContaining('empty'),
        }),
      );
    });
  });

  it('gives the same report when a `unique` field repeats in every job (validated here from then on)', async () => {
    // Operators' names repeat on most rows: every job a worker validates repeats one.
    const repeating = withUnique('nom_operateur');
    const result = await expectSameAsOneThread(file, repeating);
    expect(result.counts['unique-error']).toBeGreaterThan(5000);
  });

  it('validate alone (no COPY bytes) as the reading thread does', async () => {
    const here = await validate(file, irve, 0, 'irve.csv', undefined, false, false);
    const workers = await validate(file, irve, 2, 'irve.csv', undefined, false, false);
    expect(workers.rows).toEqual(here.rows);
    expect(workers.counts).toEqual(here.counts);
    expect(workers.errors).toEqual(here.errors);
    expect(here.rows.invalid).toBeGreaterThan(100);
    expect(workers.copy.length).toBe(0);
  });

  it('reuse the COPY buffers a load gives back, and encode the same bytes', async () => {
    const here = await validate(file, irve, 0);
    const reused = await validate(file, irve, 2, 'irve.csv', undefined, true);
    expect(reused.failure).toBeUndefined();
    expect(reused.rows).toEqual(here.rows);
    expect(reused.copy.equals(here.copy)).toBe(true);
    // Every job's buffer but those of the last jobs in flight went back to a worker.
    expect(reused.givenBack).toBeGreaterThan(5);
  });

  it('reads a Windows-1252 file (decoded text, not bytes) the same way', async () => {
    const latin1 = iconv.encode(file.toString('utf8').replace(/—/g, '-'), 'windows-1252');
    const result = await expectSameAsOneThread(latin1, irve);
    expect(result.rows.read).toBe(6000);
  });

  it('fails as the reading thread fails on a malformed quote deep in the file', async () => {
    const all = lines();
    all[4500] = all[4500]!.replace(',', ',"broken"x,');
    const result = await expectSameAsOneThread(Buffer.from(all.join('\n')), irve);
    expect(String(result.failure)).toContain('the CSV cannot be read at line 4501');
  });

  it('are as many as the cores (none on one), or as set, and a Lambda counts cores by its memory', () => {
    const cores = availableParallelism();
    expect(validationWorkers({})).toBe(cores < 2 ? 0 : Math.min(cores, 4));
    expect(validationWorkers({ DATACYCLE_VALIDATION_WORKERS: '0' })).toBe(0);
    expect(validationWorkers({ DATACYCLE_VALIDATION_WORKERS: '3' })).toBe(3);
    expect(() => validationWorkers({ DATACYCLE_VALIDATION_WORKERS: 'many' })).toThrow(TerminalError);
    // One vCPU at 1769 MB: no worker, whatever the sandbox shows.
    expect(validationWorkers({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1769' })).toBe(0);
    expect(validationWorkers({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '3538' })).toBe(
      Math.min(cores, 2) < 2 ? 0 : 2,
    );
    expect(validationWorkers({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '10240' })).toBe(
      Math.min(cores, 6) < 2 ? 0 : Math.min(cores, 4),
    );
  });

  it('started ahead, before the file is read, give the same result; those not taken are stopped', async () => {
    const all: Worker[] = [];
    const started = new StartedValidationWorkers(3, () => {
      const worker = startValidationWorker();
      all.push(worker);
      return worker;
    });
    const exits = all.map((worker) => new Promise((resolve) => worker.once('exit', resolve)));
    // The pool takes the 2 it needs, and stops them when done; one is left idle.
    const ahead = await validate(file, uniqueId, 2, 'irve.csv', started);
    await Promise.all(exits.slice(0, 2));
    const here = await validate(file, uniqueId, 0);
    expect(ahead.failure).toBeUndefined();
    expect(ahead.rows).toEqual(here.rows);
    expect(ahead.errors).toEqual(here.errors);
    expect(ahead.copy.equals(here.copy)).toBe(true);
    // As validateFile ends: close stops the one no pool took.
    await started.close();
    await exits[2];
    expect(started.take(3)).toEqual([]);
  });

  it('fail what they were given when they stop, rather than leave it waiting', async () => {
    // A setup no worker can start with: the worker throws before it takes any job.
    const pool = new ValidationPool(1, {
      table: {
        schema: null as unknown as TableSchema,
        columnOfField: new Map(),
        columnCount: 1,
        utf8Bytes: false,
      },
      delimiter: ',',
      reading: 'utf-8',
    });
    const run = { bytes: Buffer.from('a\n'), firstLine: 2, newlines: 1, firstRow: 2, records: 1 };
    await expect(pool.validate([run])).rejects.toThrow();
    await pool.close();
  });

  it('start from the bundle beside the core layer, as deployed', async () => {
    // In Lambda, the layer's index.cjs spawns validation-worker.cjs from its own folder.
    const layer = bundleCoreLayer(path.join(dir, 'layer'));
    const bundled = createRequire(import.meta.url)(
      path.join(layer, 'nodejs/node_modules/@datacycle/core/index.cjs'),
    ) as typeof import('@datacycle/core');
    const validation = new bundled.FileValidation(irve, 'test', { workers: 1, workersAfterBytes: 0 });
    const tables = bundled.openTables(Readable.from([file]), { name: 'irve.csv', csv: { utf8Bytes: true } });
    const chunks: Buffer[] = [];
    for await (const chunk of validation.copyRows(tables, lineage)) chunks.push(chunk);
    const here = await validate(file, irve, 0);
    expect(validation.rows).toEqual(here.rows);
    expect(Buffer.concat(chunks).equals(here.copy)).toBe(true);
  }, 60_000);
});
