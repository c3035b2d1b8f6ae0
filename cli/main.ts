/**
 * The `datacycle` command. Each command's code is loaded when it runs (a chunk of its own in
 * dist/), so that `datacycle --version` and `--help` answer at once.
 */
import { readFileSync } from 'node:fs';

type Command = (args: string[]) => Promise<number>;

/** A command loaded on first use. */
function lazy<M>(load: () => Promise<M>, name: keyof M & string): Command {
  return async (args) => ((await load())[name] as Command)(args);
}

const commands: Record<string, { summary: string; run: Command }> = {
  init: {
    summary:
      'init [dir] [--example territoires]               create a data project (refuses a folder with files)',
    run: lazy(() => import('./commands/init'), 'initCommand'),
  },
  up: {
    summary:
      'up [--project <dir>]                             the local cloud with the project deployed; prints its URLs',
    run: lazy(() => import('./commands/local-cloud'), 'upCommand'),
  },
  drop: {
    summary:
      'drop <file> [--dataset <id>]                     put a file in the landing bucket and follow its run',
    run: lazy(() => import('./commands/local-cloud'), 'dropCommand'),
  },
  logs: {
    summary: "logs [function] [--follow] [--since <minutes>]   the functions' log lines on the local cloud",
    run: lazy(() => import('./commands/local-cloud'), 'logsCommand'),
  },
  down: {
    summary: 'down                                             stop the local cloud',
    run: lazy(() => import('./commands/local-cloud'), 'downCommand'),
  },
  deploy: {
    summary:
      'deploy --database managed|--database-secret-arn <arn> [--profile <p>] [--region <r>] [--endpoint <url>] [--yes]   to AWS',
    run: lazy(() => import('./commands/deploy'), 'deployCommand'),
  },
  destroy: {
    summary: 'destroy [--local | --profile <p> --region <r> | --endpoint <url>] [--yes]   delete the stack',
    run: lazy(() => import('./commands/deploy'), 'destroyCommand'),
  },
  check: {
    summary: 'check [project-dir]                              validate a data project, print every problem',
    run: lazy(() => import('./commands/check'), 'checkCommand'),
  },
  validate: {
    summary: 'validate <file> --schema <schema.json> [--json]   check a file offline against a Table Schema',
    run: lazy(() => import('./commands/validate'), 'validateCommand'),
  },
  infer: {
    summary: 'infer <file>                                     draft a Table Schema from a file',
    run: lazy(() => import('./commands/infer'), 'inferCommand'),
  },
  collect: {
    summary:
      'collect <dataset> [--source N]                    run a scheduled source now (deployed collect function)',
    run: lazy(() => import('./commands/collect'), 'collectCommand'),
  },
  transform: {
    summary:
      'transform [project-dir] [--dataset <id>]         build and test the SQL models now, swap them in (DATABASE_URL)',
    run: lazy(() => import('./commands/transform'), 'transformCommand'),
  },
  runs: {
    summary: 'runs [--limit N]                                 the latest runs and their steps',
    run: lazy(() => import('./commands/runs'), 'runsCommand'),
  },
  run: {
    summary: 'run <run id>                                     one run: steps, files, tests, alerts',
    run: lazy(() => import('./commands/runs'), 'runCommand'),
  },
  status: {
    summary:
      'status [project-dir]                             health: freshness, tests, queues, dead letters, alerts',
    run: lazy(() => import('./commands/status'), 'statusCommand'),
  },
  redrive: {
    summary: "redrive <ingest|transform|alerts>                move a DLQ's messages back to their queue",
    run: lazy(() => import('./commands/redrive'), 'redriveCommand'),
  },
  backup: {
    summary:
      'backup                                           back up the database now (deployed backup function)',
    run: lazy(() => import('./commands/backup'), 'backupCommand'),
  },
  restore: {
    summary: 'restore backups/<stamp>/ [--into <database url>]  restore a backup into an empty database',
    run: lazy(() => import('./commands/backup'), 'restoreCommand'),
  },
  webhooks: {
    summary:
      'webhooks <list|deliveries|replay|enable|disable|secret|rotate> …   subscriptions and deliveries',
    run: lazy(() => import('./commands/webhooks'), 'webhooksCommand'),
  },
  'api-key': {
    summary: 'api-key                                          the key of the subscriptions API',
    run: lazy(() => import('./commands/webhooks'), 'apiKeyCommand'),
  },
  rotate: {
    summary:
      'rotate <api-key|push <dataset>> [--overlap-hours 168]  a new shared secret; the old one works meanwhile',
    run: lazy(() => import('./commands/rotate'), 'rotateCommand'),
  },
  migrate: {
    summary: 'migrate                  apply database migrations (DATABASE_URL)',
    run: lazy(() => import('./commands/migrate'), 'migrateCommand'),
  },
};

/** The version of this datacycle, from its package.json (beside dist/, or above cli/). */
function version(): string {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return manifest.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function usage(): string {
  const lines = Object.values(commands).map((command) => `  datacycle ${command.summary}`);
  return `datacycle ${version()}: a data team's whole data cycle on serverless, AWS-compatible infrastructure

usage:
${lines.join('\n')}

Commands that work on a project take it from the current folder, or from --project <dir>.`;
}

/** A user's mistake or an environment to fix: what failed and what to do, never a stack trace. */
function explain(name: string, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`✗ datacycle ${name}: ${message}`);
  const fix = error instanceof Error ? (error as Error & { fix?: string }).fix : undefined;
  if (fix) console.error(`  fix: ${fix}`);
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--version' || name === '-v' || name === 'version') {
    console.log(version());
    return 0;
  }
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage());
    return 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`✗ datacycle: no command ${name}\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(args);
  } catch (error) {
    explain(name, error);
    return 1;
  }
}
