import { statSync } from 'node:fs';
import path from 'node:path';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import pg from 'pg';
import { localClientConfig, localFunctionUrlHost } from '../../localcloud/aws-clients';
import { dropFile } from '../../localcloud/drop';
import { readStackOutputs, type StackOutputs } from '../../localcloud/deploy';
import { stopLocalstack } from '../../localcloud/localstack';
import { eventually } from '../../localcloud/process';
import { localstackEndpoint } from '../../localcloud/settings';
import { up } from '../../localcloud/up';
import { parseArgs } from '../args';
import { databaseUrl } from '../database';
import { loadCheckedProject, projectDirOf, UsageError } from '../project';

/** `datacycle up [--project <dir>]`: the local cloud with this project deployed, and where to find it. */
export async function upCommand(args: string[]): Promise<number> {
  const { flags } = parseArgs(args);
  const projectDir = projectDirOf(flags);
  const project = await loadCheckedProject(projectDir);
  const { outputs, timings } = await up(projectDir);
  console.log(
    `\n✓ ${project.config.name} runs on the local cloud (ready in ${timings.total?.toFixed(1)} s)\n`,
  );
  printWhere(outputs);
  console.log('\nnext:');
  console.log('  npx datacycle drop <file> [--dataset <id>]   load a file as a producer would');
  console.log('  npx datacycle logs [function] [--follow]     what the functions say');
  console.log('  npx datacycle down                           stop the local cloud');
  return 0;
}

function printWhere(outputs: StackOutputs): void {
  const apiHost = localFunctionUrlHost(outputs.ApiUrl);
  console.log(`  portal   ${localstackEndpoint}/${outputs.PublicBucket}/portal/index.html`);
  console.log(`  API      ${localstackEndpoint}/ with header host: ${apiHost}`);
  console.log(`           curl -H 'host: ${apiHost}' ${localstackEndpoint}/datasets`);
  console.log(`  landing  s3://${outputs.LandingBucket}/<dataset prefix>/<file>`);
  console.log(`  public   s3://${outputs.PublicBucket}/ (exports/, catalog/, portal/)`);
  console.log(`  database ${databaseUrl().replace(/:[^:@/]+@/, ':***@')}`);
}

/** `datacycle down`: stops the local cloud (LocalStack keeps its state in memory). */
export async function downCommand(): Promise<number> {
  const stopped = await stopLocalstack();
  console.log(
    stopped
      ? '✓ local cloud stopped (LocalStack); PostgreSQL keeps its data'
      : 'the local cloud was not running',
  );
  console.log('next: npx datacycle up   brings it back with the project deployed');
  return 0;
}

interface FileRow {
  run_id: string;
  status: string;
  rows_loaded: string | null;
  error: string | null;
  report_key: string | null;
}

/**
 * `datacycle drop <file> [--dataset <id>] [--timeout <s>]`: puts the file in the landing
 * bucket under the dataset's prefix, as a producer would, and follows its run: the load, the
 * transform pass, the publication. Exit 1 when the file is rejected or a step fails.
 */
export async function dropCommand(args: string[]): Promise<number> {
  const { positional, flags } = parseArgs(args);
  const file = positional[0];
  if (!file) throw new UsageError('usage: datacycle drop <file> [--dataset <id>]');
  try {
    if (!statSync(file).isFile()) throw new Error();
  } catch {
    throw new UsageError(`no file ${file}`);
  }
  const projectDir = projectDirOf(flags);
  const project = await loadCheckedProject(projectDir);
  const named = flags.get('dataset');
  if (named === true) throw new UsageError('--dataset needs a dataset id');
  const outputs = readStackOutputs(projectDir);
  const { dataset, key } = await dropFile(projectDir, project, file, named);
  const timeoutMs = Number(flags.get('timeout') ?? 120) * 1000;
  console.log(`› dropped ${path.basename(file)} in s3://${outputs.LandingBucket}/${key}`);

  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    const row = await waitFor(
      async () =>
        (
          await client.query<FileRow>(
            'SELECT run_id, status, rows_loaded, error, report_key FROM ops.files WHERE source_key = $1',
            [key],
          )
        ).rows[0],
      timeoutMs,
      'the ingest function to record the file',
    );
    const report = row.report_key ? ` (report: s3://${outputs.InternalBucket}/${row.report_key})` : '';
    if (row.status === 'rejected') {
      console.log(`✗ ${dataset.id}: rejected${report}\n  ${row.error ?? ''}`);
      console.log(
        '  fix the file (or the schema), then drop it again; `datacycle validate` checks it offline',
      );
      return 1;
    }
    if (row.status === 'duplicate') {
      console.log(`✓ ${dataset.id}: duplicate: the same content was loaded before, nothing loads twice`);
      return 0;
    }
    console.log(
      `✓ ${dataset.id}: loaded ${row.rows_loaded ?? 0} rows into raw.${dataset.id.replaceAll('-', '_')}${report}`,
    );
    console.log(`  run ${row.run_id}`);
    for (const step of ['transform', 'publish'] as const) {
      const done = await waitFor(
        async () =>
          (
            await client.query<{ status: string; error: string | null }>(
              `SELECT status, error FROM ops.run_steps WHERE run_id = $1 AND step = $2 AND status <> 'running'`,
              [row.run_id, step],
            )
          ).rows[0],
        timeoutMs,
        `the ${step} step of run ${row.run_id}`,
      ).catch(() => undefined);
      if (!done) {
        if (step === 'publish')
          console.log('  publish: not reached (nothing to publish, or a test held it back)');
        else
          console.log(
            `  ${step}: not finished within ${timeoutMs / 1000} s; see datacycle run ${row.run_id}`,
          );
        return step === 'publish' ? 0 : 1;
      }
      console.log(
        `${done.status === 'failed' ? '✗' : '✓'} ${step}: ${done.status}${done.error ? ` — ${done.error}` : ''}`,
      );
      if (done.status === 'failed') return 1;
    }
    console.log(`\nnext: npx datacycle run ${row.run_id}   the whole run: steps, files, tests, alerts`);
    return 0;
  } finally {
    await client.end();
  }
}

/** Polls until `probe` answers; a timeout says what was awaited and where to look. */
function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  return eventually(probe, timeoutMs, what).catch((error: Error) => {
    throw new UsageError(error.message, 'see `datacycle logs ingest`, or `datacycle runs`');
  });
}

/** The stack's functions by the names the CLI gives them. */
function functionNamesOf(outputs: StackOutputs): Record<string, string> {
  return {
    ingest: outputs.IngestFunctionName,
    collect: outputs.CollectFunctionName,
    push: outputs.PushFunctionName,
    transform: outputs.TransformFunctionName,
    publish: outputs.PublishFunctionName,
    notify: outputs.NotifyFunctionName,
    monitor: outputs.MonitorFunctionName,
    backup: outputs.BackupFunctionName,
    api: outputs.ApiFunctionName,
    'webhook-fanout': outputs.FanOutFunctionName,
    'webhook-delivery': outputs.DeliveryFunctionName,
    migrate: outputs.MigrateFunctionName,
  };
}

/**
 * `datacycle logs [function] [--follow] [--since <minutes>]`: the functions' log lines (every
 * function, or one), oldest first, from the local cloud's CloudWatch Logs.
 */
export async function logsCommand(args: string[]): Promise<number> {
  const { positional, flags } = parseArgs(args, ['follow']);
  const outputs = readStackOutputs(projectDirOf(flags));
  const all = functionNamesOf(outputs);
  const wanted = positional[0];
  if (wanted && !all[wanted])
    throw new UsageError(`no function ${wanted}`, `choose one of: ${Object.keys(all).join(', ')}`);
  const chosen = Object.entries(all).filter(([name]) => !wanted || name === wanted);
  const logs = new CloudWatchLogsClient(localClientConfig());
  let since = Date.now() - Number(flags.get('since') ?? 60) * 60_000;
  const seen = new Set<string>();
  for (;;) {
    const lines: { time: number; text: string }[] = [];
    for (const [name, functionName] of chosen) {
      let nextToken: string | undefined;
      do {
        const page = await logs
          .send(
            new FilterLogEventsCommand({
              logGroupName: `/aws/lambda/${functionName}`,
              startTime: since,
              nextToken,
            }),
          )
          .catch((error: Error) => {
            if (error.name === 'ResourceNotFoundException') return { events: [], nextToken: undefined };
            throw error;
          });
        for (const event of page.events ?? []) {
          const id = event.eventId ?? `${event.timestamp}:${event.message}`;
          if (seen.has(id)) continue;
          seen.add(id);
          lines.push({
            time: event.timestamp ?? 0,
            text: `${name.padEnd(16)} ${(event.message ?? '').trimEnd()}`,
          });
        }
        nextToken = page.nextToken;
      } while (nextToken);
    }
    for (const line of lines.sort((a, b) => a.time - b.time)) console.log(line.text);
    if (flags.get('follow') !== true) {
      if (lines.length === 0) console.log(`no log lines in the last ${flags.get('since') ?? 60} minutes`);
      return 0;
    }
    since = Math.max(since, ...lines.map((line) => line.time));
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
