import { backupCommand, restoreCommand } from './commands/backup';
import { checkCommand } from './commands/check';
import { collectCommand } from './commands/collect';
import { inferCommand } from './commands/infer';
import { migrateCommand } from './commands/migrate';
import { redriveCommand } from './commands/redrive';
import { runCommand, runsCommand } from './commands/runs';
import { statusCommand } from './commands/status';
import { transformCommand } from './commands/transform';
import { validateCommand } from './commands/validate';
import { apiKeyCommand, webhooksCommand } from './commands/webhooks';

const commands: Record<string, { summary: string; run: (args: string[]) => Promise<number> }> = {
  check: {
    summary: 'check <project-dir>      validate a data project, print every problem',
    run: checkCommand,
  },
  validate: {
    summary: 'validate <file> --schema <schema.json> [--json]   check a file offline against a Table Schema',
    run: validateCommand,
  },
  infer: {
    summary: 'infer <file>                                     draft a Table Schema from a file',
    run: inferCommand,
  },
  collect: {
    summary:
      'collect <dataset> [--source N]                    run a scheduled source now (deployed collect function)',
    run: collectCommand,
  },
  transform: {
    summary:
      'transform <project-dir> [--dataset <id>]        build, test and publish the SQL models now (DATABASE_URL)',
    run: transformCommand,
  },
  runs: {
    summary: 'runs [--limit N]                                 the latest runs and their steps',
    run: runsCommand,
  },
  run: {
    summary: 'run <run id>                                     one run: steps, files, tests, alerts',
    run: runCommand,
  },
  status: {
    summary:
      'status [project-dir]                             health: freshness, tests, queues, dead letters, alerts',
    run: statusCommand,
  },
  redrive: {
    summary: "redrive <ingest|transform|alerts>                move a DLQ's messages back to their queue",
    run: redriveCommand,
  },
  backup: {
    summary:
      'backup                                           back up the database now (deployed backup function)',
    run: backupCommand,
  },
  restore: {
    summary: 'restore backups/<stamp>/ [--into <database url>]  restore a backup into an empty database',
    run: restoreCommand,
  },
  webhooks: {
    summary:
      'webhooks <list|deliveries|replay|enable|disable|secret|rotate> …   subscriptions and deliveries',
    run: webhooksCommand,
  },
  'api-key': {
    summary: 'api-key                                          the key of the subscriptions API',
    run: apiKeyCommand,
  },
  migrate: {
    summary: 'migrate                  apply database migrations (DATABASE_URL)',
    run: migrateCommand,
  },
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const command = name ? commands[name] : undefined;
  if (!command) {
    const lines = Object.values(commands).map((c) => `  datacycle ${c.summary}`);
    console.error(`usage:\n${lines.join('\n')}`);
    return name && name !== 'help' && name !== '--help' ? 2 : 0;
  }
  try {
    return await command.run(args);
  } catch (error) {
    console.error(`datacycle ${name}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}
