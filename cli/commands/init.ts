import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from '../args';
import { UsageError } from '../project';
import { datacycleVersion, exampleProjectDir, packageRoot } from '../../localcloud/settings';

const examples: Record<string, string> = { territoires: exampleProjectDir };
const starter = path.join(packageRoot, 'templates', 'starter');

/**
 * `datacycle init [dir] [--example territoires] [--name <name>]`: creates a data project in
 * `dir` (default: here): a commented datacycle.yaml, one dataset with its Table Schema, one SQL
 * model with tests, a sample file, a .gitignore and a README with the next commands. Refuses
 * a folder that already holds files.
 */
export async function initCommand(args: string[]): Promise<number> {
  const { positional, flags } = parseArgs(args);
  const dir = path.resolve(positional[0] ?? '.');
  const example = flags.get('example');
  if (example !== undefined && (example === true || !examples[example]))
    throw new UsageError(
      `no example ${String(example)}`,
      `choose one of: ${Object.keys(examples).join(', ')}`,
    );
  if (existsSync(dir) && readdirSync(dir).filter((entry) => !entry.startsWith('.')).length > 0)
    throw new UsageError(
      `${dir} is not empty: datacycle init writes only into a new or empty folder`,
      'give another folder: datacycle init <dir>',
    );
  if (existsSync(path.join(dir, '.gitignore')))
    throw new UsageError(`${dir} already has a .gitignore`, 'give another folder: datacycle init <dir>');
  const name = String(flags.get('name') ?? slug(path.basename(dir)));
  if (!/^[a-z][a-z0-9-]{1,40}$/.test(name))
    throw new UsageError(
      `"${name}" cannot name a project (lower-case letters, digits and dashes, 2 to 41, a letter first)`,
      'give one with --name <name>',
    );
  mkdirSync(dir, { recursive: true });
  if (example) {
    cpSync(examples[example]!, dir, {
      recursive: true,
      filter: (source) => !source.includes(`${path.sep}.datacycle`),
    });
    writeFileSync(path.join(dir, '.gitignore'), readFileSync(path.join(starter, 'gitignore')));
  } else {
    cpSync(starter, dir, { recursive: true });
    renameSync(path.join(dir, 'gitignore'), path.join(dir, '.gitignore'));
    for (const file of ['datacycle.yaml', 'README.md']) {
      const target = path.join(dir, file);
      writeFileSync(
        target,
        readFileSync(target, 'utf8')
          .replaceAll('__NAME__', name)
          .replaceAll('__TITLE__', `Données de ${name}`)
          .replaceAll('__VERSION__', datacycleVersion),
      );
    }
  }
  const shown = path.relative(process.cwd(), dir) || '.';
  console.log(`✓ created ${example ? `the ${example} example` : `project ${name}`} in ${shown}`);
  console.log('\nnext:');
  if (shown !== '.') console.log(`  cd ${shown}`);
  console.log('  npx datacycle check     # validate it');
  console.log('  npx datacycle up        # run it on the local cloud');
  console.log(
    `  npx datacycle drop ${example ? 'data/irve-statique-exemple.csv --dataset irve-statique' : 'data/mesures-air.csv'}`,
  );
  return 0;
}

/** A folder name as a project name: lower case, dashes for the rest. */
function slug(text: string): string {
  const cleaned = text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+|-+$/g, '');
  return cleaned.slice(0, 41) || 'data-project';
}
