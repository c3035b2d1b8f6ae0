/**
 * How fast the `datacycle` command answers (`--version`, `--help`), as a user runs it: the
 * compiled bin, a new Node.js process each time, against `node -e 0` measured in the same run.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { packageRoot } from '../localcloud/settings';

export interface StartupBench {
  runs: number;
  /** Median wall time of each, in seconds. */
  version: number;
  help: number;
  /** A Node.js process that does nothing: the floor. */
  nodeAlone: number;
  /** The goal: under this many seconds. */
  target: number;
}

function medianSeconds(args: string[], runs: number): number {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { cwd: packageRoot, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${result.stderr}`);
    times.push(Number(process.hrtime.bigint() - started) / 1e9);
  }
  times.sort((a, b) => a - b);
  return Math.round(times[Math.floor(runs / 2)]! * 1000) / 1000;
}

export function benchStartup(runs = 15): StartupBench {
  const bin = path.join(packageRoot, 'bin', 'datacycle.mjs');
  medianSeconds([bin, '--version'], 2); // warm the file cache
  return {
    runs,
    version: medianSeconds([bin, '--version'], runs),
    help: medianSeconds([bin, '--help'], runs),
    nodeAlone: medianSeconds(['-e', '0'], runs),
    target: 0.2, // issue 22
  };
}

/** The report's section. */
export function startupSection(startup: StartupBench): string {
  const row = (what: string, seconds: number) =>
    `| \`${what}\` | ${seconds} s | ${startup.nodeAlone} s | ${Math.round((seconds / startup.nodeAlone) * 10) / 10}× | ${seconds < startup.target ? 'yes' : '**no**'} |`;
  return `## Command start-up

\`datacycle\` as a user runs it (the compiled bin: dist/cli.mjs loads a command's code only when
that command runs), median of ${startup.runs} runs, against a Node.js process that does nothing,
measured in the same run. Goal: under ${startup.target} s.

| command | median | \`node -e 0\` | ratio | under ${startup.target} s |
| --- | --- | --- | --- | --- |
${row('datacycle --version', startup.version)}
${row('datacycle --help', startup.help)}
`;
}
