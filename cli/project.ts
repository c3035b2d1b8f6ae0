import { existsSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { loadProject, type Project } from '@datacycle/core';
import { SetupError } from '../localcloud/process';
import { datacycleVersion, exampleProjectDir, packageRoot } from '../localcloud/settings';

/**
 * A problem the user fixes, said without a stack trace with what to do: the local cloud's
 * SetupError (message + fix), named for a command's misuse.
 */
export class UsageError extends SetupError {
  override name = 'UsageError';
}

/**
 * The data project a command works on: --project, else the current folder. In a checkout of
 * datacycle itself (its own folder holds no project), the example project.
 */
export function projectDirOf(flags: Map<string, string | true>, cwd = process.cwd()): string {
  const given = flags.get('project');
  if (given === true) throw new UsageError('--project needs a folder');
  const dir = path.resolve(cwd, given ?? '.');
  if (existsSync(path.join(dir, 'datacycle.yaml'))) return dir;
  if (given === undefined && path.resolve(cwd) === packageRoot) return exampleProjectDir;
  throw new UsageError(
    `no datacycle.yaml in ${dir}`,
    'run the command in your project folder, or give it with --project <dir>; `datacycle init` creates a project',
  );
}

/** Whether this datacycle satisfies the range a project asks for (its `datacycle:` field). */
export function versionProblem(project: Project, version = datacycleVersion): string | undefined {
  const wanted = project.config.datacycle;
  if (!wanted) return undefined;
  if (!semver.validRange(wanted))
    return `datacycle.yaml asks for datacycle "${wanted}", which is not a version range (e.g. "^${version}")`;
  if (!semver.satisfies(version, wanted, { includePrerelease: true }))
    return `this project needs datacycle ${wanted}, and this is datacycle ${version}: install a matching version (npm install datacycle@"${wanted}"), or change \`datacycle:\` in datacycle.yaml`;
  return undefined;
}

/** Loads and checks a project (files, schemas, models, the datacycle version it needs), or says what is wrong. */
export async function loadCheckedProject(dir: string): Promise<Project> {
  const loaded = await loadProject(dir);
  if (!loaded.ok) {
    const lines = loaded.issues.map(
      (issue) => `  ${issue.file}${issue.path ? ` › ${issue.path}` : ''}: ${issue.message}`,
    );
    throw new UsageError(
      `the project in ${dir} has ${loaded.issues.length} problem(s):\n${lines.join('\n')}`,
      'fix them, then run `datacycle check`',
    );
  }
  const problem = versionProblem(loaded.project);
  if (problem) throw new UsageError(problem);
  return loaded.project;
}
