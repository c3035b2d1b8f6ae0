/**
 * datacycle as a team gets it: the package packed, installed into an empty folder outside the
 * repository, and used there with its own commands only: init, check, up (its own venv and
 * LocalStack), drop, the rows through the deployed read API, down. Runs last in `npm test`:
 * it stops the local cloud the other suites used and brings up its own.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopLocalstack } from '../../localcloud/localstack';
import { localDir, localstackEndpoint, packageRoot } from '../../localcloud/settings';
import { callApi, databaseUrl } from '../helpers/local-cloud';

const exec = promisify(execFile);
const work = mkdtempSync(path.join(tmpdir(), 'datacycle-user-'));
const app = path.join(work, 'app');
const project = path.join(app, 'air');

/** The server's own database URL; the user's project gets a database of its own on it. */
const adminUrl = databaseUrl();
const userDatabase = `datacycle_user_${path.basename(work).replace(/\W/g, '_').toLowerCase()}`;
const userDatabaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${userDatabase}` }).toString();

/** The environment of a user's shell: none of npm's own variables from `npm test`. */
const userEnv: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name))),
  // The installed datacycle's machine state (venv, LocalStack), kept in this checkout's .local/.
  DATACYCLE_HOME: path.join(localDir, 'package-home'),
  // A new team's database (created by `datacycle up`): nothing loaded before.
  DATABASE_URL: userDatabaseUrl,
};

/** Runs the installed `datacycle` in `cwd`, as a user types it. */
async function datacycle(args: string[], cwd = project, timeout = 600_000, env: NodeJS.ProcessEnv = {}) {
  const bin = path.join(app, 'node_modules', '.bin', 'datacycle');
  try {
    const { stdout, stderr } = await exec(bin, args, {
      cwd,
      env: { ...userEnv, ...env },
      timeout,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

beforeAll(async () => {
  const { stdout } = await exec('npm', ['pack', '--pack-destination', work], {
    cwd: packageRoot,
    env: userEnv,
    timeout: 300_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const tarball = readdirSync(work).find((file) => file.endsWith('.tgz'));
  expect(tarball, stdout).toMatch(/^datacycle-\d+\.\d+\.\d+\.tgz$/);
  await exec('mkdir', ['-p', app]);
  await exec('npm', ['install', '--no-audit', '--no-fund', path.join(work, tarball!)], {
    cwd: app,
    env: userEnv,
    timeout: 600_000,
  });
  // The local cloud of the other suites is stopped: the installed datacycle starts its own.
  await stopLocalstack();
  const stillThere = await fetch(`${localstackEndpoint}/_localstack/health`).then(
    () => true,
    () => false,
  );
  if (stillThere)
    throw new Error(
      `a LocalStack this checkout did not start answers on ${localstackEndpoint}: stop it (datacycle down where it was started), then run the test again`,
    );
}, 900_000);

afterAll(async () => {
  await datacycle(['down'], app);
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(userDatabase)} WITH (FORCE)`);
  await admin.end();
});

describe('the package, installed in an empty folder', () => {
  it('ships compiled JavaScript only, and answers --version without TypeScript', async () => {
    const installed = path.join(app, 'node_modules', 'datacycle');
    const version = (
      JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as { version: string }
    ).version;
    const answer = await datacycle(['--version'], app);
    expect(answer).toMatchObject({ code: 0, stdout: `${version}\n` });
    const shipped = readdirSync(installed, { recursive: true }).map(String);
    expect(shipped.filter((file) => /\.ts$/.test(file) && !file.endsWith('.d.ts'))).toEqual([]);
    expect(shipped).toContain(path.join('dist', 'cdk-app.mjs'));
  });

  it('init creates a project that check accepts, and refuses to overwrite it', async () => {
    const created = await datacycle(['init', 'air'], app);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('npx datacycle up');
    expect(readdirSync(project).sort()).toEqual(
      ['.gitignore', 'README.md', 'data', 'datacycle.yaml', 'datasets', 'models', 'schemas'].sort(),
    );
    const checked = await datacycle(['check']);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toContain('moyennes_par_station');
    const again = await datacycle(['init', 'air'], app);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is not empty[\s\S]*fix:/);
    expect(again.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('up, drop, the rows through the deployed read API; deploy to an endpoint, destroy, down', async () => {
    const started = await datacycle(['up'], project, 900_000);
    expect(started.code, `${started.stdout}\n${started.stderr}`).toBe(0);
    expect(started.stdout).toMatch(/air runs on the local cloud/);

    const dropped = await datacycle(['drop', 'data/mesures-air.csv'], project, 300_000);
    expect(dropped.code, `${dropped.stdout}\n${dropped.stderr}`).toBe(0);
    expect(dropped.stdout).toMatch(/loaded 8 rows into raw\.mesures_air/);
    expect(dropped.stdout).toMatch(/transform: succeeded/);

    const outputs = Object.values(
      JSON.parse(readFileSync(path.join(project, '.datacycle', 'stack-outputs.json'), 'utf8')) as Record<
        string,
        { ApiUrl: string }
      >,
    )[0]!;
    const response = await callApi(outputs.ApiUrl, '/datasets/moyennes_par_station/rows?order=station');
    expect(response.status, response.text).toBe(200);
    const body = response.json<{ data: { station: string; polluant: string; moyenne: number }[] }>();
    expect(body.data).toHaveLength(4);
    expect(body.data).toContainEqual(
      expect.objectContaining({ station: 'FR04002', polluant: 'NO2', moyenne: 29.8 }),
    );

    const logs = await datacycle(['logs', 'ingest', '--since', '30']);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/^ingest +.*"message":"ingest outcome"/m);

    // deploy to an AWS-compatible endpoint (here the same LocalStack): bootstrap, diff, --yes.
    const endpoint = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
    const deployed = await datacycle(
      [
        'deploy',
        '--endpoint',
        localstackEndpoint,
        '--region',
        'us-east-1',
        '--database-url',
        userDatabaseUrl,
        '--yes',
      ],
      project,
      900_000,
      endpoint,
    );
    expect(deployed.code, `${deployed.stdout}\n${deployed.stderr}`).toBe(0);
    expect(deployed.stdout).toMatch(/datacycle-air deployed to http:\/\/127\.0\.0\.1:4566/);
    const destroyed = await datacycle(['destroy', '--local', '--yes'], project, 900_000);
    expect(destroyed.code, `${destroyed.stdout}\n${destroyed.stderr}`).toBe(0);
    expect(destroyed.stdout).toMatch(/datacycle-air destroyed on the local cloud/);

    const stopped = await datacycle(['down']);
    expect(stopped.stdout).toContain('local cloud stopped');
    await expect(fetch(`${localstackEndpoint}/_localstack/health`)).rejects.toThrow();
  });
});
