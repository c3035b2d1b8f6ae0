/**
 * Fault: a collected source misbehaves. The example's `departements` source (an HTTP file on the
 * demo portal, 127.0.0.1:28761) is served here by a server that answers 500, sends a truncated
 * body, changes the file's columns, or never answers. Each time the run fails with a report
 * that says what went wrong, nothing half-written is loaded, and the published data stays as it
 * was (the table and its public export). Figures: .local/faults/collected-source.json.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { examplePortalPort } from '../../localcloud/example-portal';
import { exampleDataDir } from '../../localcloud/example-portal';
import {
  eventually,
  fireAndWaitForRun,
  localS3,
  readStackOutputs,
  recordedFile,
  testPool,
  type CollectRun,
} from '../helpers/local-cloud';
import { recordFigures } from './figures';
import { tableState } from './pipeline';

type Behaviour = 'ok' | 'error-500' | 'truncated' | 'columns-renamed' | 'hang';
const original = readFileSync(path.join(exampleDataDir, 'departements.csv'));
const outputs = readStackOutputs();
const pool = testPool();
const s3 = localS3();
const figures: Record<string, unknown> = {};
let behaviour: Behaviour = 'ok';
let requests = 0;
let portal: Server;
const exportKey = 'exports/departements/latest/departements.csv';

beforeAll(async () => {
  portal = createServer((req, res) => {
    if (req.url !== '/departements.csv') return void res.writeHead(404).end();
    requests++;
    switch (behaviour) {
      case 'ok':
        return void res.writeHead(200, { 'content-type': 'text/csv' }).end(original);
      case 'error-500':
        return void res.writeHead(500).end('internal error');
      case 'truncated':
        // The length announced, a third of the bytes sent, then the connection cut.
        res.writeHead(200, { 'content-type': 'text/csv', 'content-length': original.length });
        res.write(original.subarray(0, Math.floor(original.length / 3)));
        return void setTimeout(() => res.destroy(), 50);
      case 'columns-renamed':
        return void res
          .writeHead(200, { 'content-type': 'text/csv' })
          .end(original.toString('utf8').replace(/^code,/, 'code_insee,'));
      case 'hang':
        return; // never answers
    }
  });
  await new Promise<void>((resolve) => portal.listen(examplePortalPort, '127.0.0.1', resolve));
});

afterAll(async () => {
  behaviour = 'ok';
  portal.closeAllConnections();
  portal.close();
  await pool.end();
});

async function published() {
  const head = await s3.send(new HeadObjectCommand({ Bucket: outputs.PublicBucket, Key: exportKey }));
  return { table: await tableState(pool, 'raw.departements'), exportEtag: head.ETag };
}

async function collectWhile(
  mode: Behaviour,
  timeoutMs = 120_000,
): Promise<{ run: CollectRun; requests: number; seconds: number }> {
  behaviour = mode;
  requests = 0;
  const started = Date.now();
  const run = await fireAndWaitForRun(pool, outputs.ScheduleRules, 'departements:0', timeoutMs);
  return { run, requests, seconds: Number(((Date.now() - started) / 1000).toFixed(1)) };
}

describe('a collected source that fails', () => {
  it.each([
    ['answers 500', 'error-500', /departements\.csv: 500/],
    [
      'sends a truncated body',
      'truncated',
      /departements\.csv.*the body was cut after \d+ bytes of the \d+ announced/,
    ],
  ] as const)(
    '%s: retried, then the run fails with the reason, and nothing changes',
    async (_label, mode, reason) => {
      const before = await published();

      const { run, requests: made, seconds } = await collectWhile(mode);

      expect(run.status).toBe('failed');
      expect(run.error).toMatch(reason);
      expect(made).toBeGreaterThan(1); // retried before giving up
      expect(run.details.key).toBeUndefined(); // nothing written to landing
      expect(await published()).toEqual(before);
      // The function raises its alert after the run is recorded as failed: wait for it.
      const alerts = await eventually(
        async () => {
          const { rows } = await pool.query(
            "SELECT 1 FROM ops.alerts WHERE kind = 'collect-failed' AND run_id = $1",
            [run.id],
          );
          return rows.length > 0 ? rows : undefined;
        },
        30_000,
        `the collect-failed alert of run ${run.id}`,
      );
      expect(alerts).toHaveLength(1);
      figures[mode] = { requests: made, secondsToFailedRun: seconds, error: run.error };
    },
  );

  it('changes its columns: collected, then refused at ingestion with the columns named, and nothing changes', async () => {
    const before = await published();

    const { run, seconds } = await collectWhile('columns-renamed');
    const file = await recordedFile(pool, run.details.key!);

    expect(file.status).toBe('rejected');
    expect(file.error).toMatch(/code/);
    expect(await published()).toEqual(before);
    const { rows } = await pool.query<{ status: string }>('SELECT status FROM ops.runs WHERE id = $1', [
      run.id,
    ]);
    expect(rows).toEqual([{ status: 'failed' }]);
    figures['columns-renamed'] = { secondsToCollected: seconds, ingest: file.status, error: file.error };
  });

  it('never answers: each attempt cut at the timeout, then the run fails, and nothing changes', async () => {
    const before = await published();

    const { run, requests: made, seconds } = await collectWhile('hang', 400_000);

    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/no answer within 30000 ms/);
    expect(made).toBe(5);
    expect(await published()).toEqual(before);
    figures.hang = { requests: made, secondsToFailedRun: seconds, error: run.error };
    recordFigures('collected-source', figures);
  }, 420_000);
});
