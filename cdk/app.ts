import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { loadProject } from '@datacycle/core';
import { packageRoot, stageLambdaCode } from './lambda-code';
import { DatacycleStack } from './stack';

/**
 * The CDK app, run by `datacycle up` / `deploy` (bundled as dist/cdk-app.mjs). Context (-c):
 * `project` (folder of the data project), `buildDir` (where its function code is staged,
 * default <project>/.datacycle/build), and either `databaseSecretArn` (an existing secret)
 * or `databaseUrl` (stored in a new secret).
 */
const app = new App();
const projectDir = path.resolve(
  packageRoot,
  String(app.node.tryGetContext('project') ?? 'examples/territoires'),
);
const buildDir = String(app.node.tryGetContext('buildDir') ?? path.join(projectDir, '.datacycle', 'build'));
const loaded = await loadProject(projectDir);
if (!loaded.ok) {
  for (const issue of loaded.issues)
    console.error(`${issue.file}${issue.path ? ` (${issue.path})` : ''}: ${issue.message}`);
  throw new Error(`the data project in ${projectDir} is invalid; run: npx datacycle check ${projectDir}`);
}
const project = loaded.project;

const secretArn = app.node.tryGetContext('databaseSecretArn') as string | undefined;
const url =
  (app.node.tryGetContext('databaseUrl') as string | undefined) ?? process.env.DATACYCLE_STACK_DATABASE_URL;
if (!secretArn && !url) throw new Error('set context databaseSecretArn (AWS) or databaseUrl (local cloud)');

new DatacycleStack(app, `datacycle-${project.config.name}`, {
  project,
  database: secretArn ? { secretArn } : { url: url as string },
  code: stageLambdaCode(project, buildDir),
  retainData: app.node.tryGetContext('retainData') !== 'false',
});
app.synth();
