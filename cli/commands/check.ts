import { loadProject } from '@datacycle/core';
import { parseArgs } from '../args';
import { checkModelCode } from '../model-checks';
import { projectDirOf, versionProblem } from '../project';

/**
 * `datacycle check [project-dir]` (default: --project, else here): exit 0 when the project is
 * valid and made for this datacycle, 1 with every issue otherwise.
 */
export async function checkCommand(args: string[]): Promise<number> {
  const { positional, flags } = parseArgs(args);
  const dir = positional[0] ?? projectDirOf(flags);
  const result = await loadProject(dir);
  if (!result.ok) {
    for (const issue of result.issues) {
      console.error(`✗ ${issue.file}${issue.path ? ` › ${issue.path}` : ''}: ${issue.message}`);
    }
    console.error(`\n${result.issues.length} problem(s) in ${dir}`);
    return 1;
  }
  const { project } = result;
  const problem = versionProblem(project);
  if (problem) {
    console.error(`✗ datacycle.yaml › datacycle: ${problem}`);
    return 1;
  }
  // Python and R models, by their own language (syntax, the function's parameters).
  const languageChecks = await checkModelCode(project.models);
  const codeIssues = languageChecks.flatMap((check) => check.issues);
  for (const check of languageChecks) if (check.skipped) console.error(`! ${check.skipped}`);
  if (codeIssues.length > 0) {
    for (const issue of codeIssues)
      console.error(`✗ ${issue.file}${issue.path ? ` › ${issue.path}` : ''}: ${issue.message}`);
    console.error(`\n${codeIssues.length} problem(s) in ${dir}`);
    return 1;
  }
  console.log(`✓ ${project.config.name}: ${project.config.title}`);
  for (const dataset of project.datasets) {
    const sources = dataset.config.sources.map((s) =>
      s.type === 's3'
        ? `drop ${s.prefix}`
        : s.type === 'push'
          ? `push (${s.auth})`
          : `${s.type} ${s.schedule}`,
    );
    console.log(
      `  ${dataset.id.padEnd(24)} ${String(dataset.tableSchema.fields.length).padStart(3)} fields  load ${dataset.config.load.mode.padEnd(7)}  ${sources.join(', ')}${testCount(dataset.config.tests)}`,
    );
  }
  for (const model of project.models) {
    const reads = [...model.sources.map((s) => `source ${s}`), ...model.refs.map((r) => `ref ${r}`)];
    const kind = `${model.header.materialized}${model.language === 'sql' ? '' : ` (${model.language === 'python' ? 'Python' : 'R'})`}`;
    console.log(
      `  model ${model.name.padEnd(22)} ${kind.padEnd(14)} ← ${reads.join(', ')}${testCount(model.header.tests)}`,
    );
  }
  return 0;
}

const testCount = (tests: readonly unknown[]) => (tests.length > 0 ? `  (${tests.length} tests)` : '');
