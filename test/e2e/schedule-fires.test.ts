/**
 * LocalStack's own EventBridge machinery fires a schedule rule on time and invokes the
 * deployed collect function (the other e2e tests invoke a rule's target directly, to avoid
 * waiting for the deployed rules' real periods). Takes about a minute.
 */
import { copyFileSync, mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  DeleteRuleCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClientConfig } from '../../localcloud/aws-clients';
import { examplePortalPort } from '../../localcloud/example-portal';
import { serveFiles } from '../../localcloud/file-server';
import { localAccount } from '../../localcloud/settings';
import { eventually, readStackOutputs, testPool, uniqueName } from '../helpers/local-cloud';

const root = path.resolve(import.meta.dirname, '../..');
const outputs = readStackOutputs();
const events = new EventBridgeClient(localClientConfig());
const pool = testPool();
const ruleName = uniqueName('e2e-every-minute');
const portalDir = mkdtempSync(path.join(tmpdir(), 'dc-rule-portal-'));
let portal: Server;

beforeAll(async () => {
  copyFileSync(
    path.join(root, 'examples/territoires/data/departements.csv'),
    path.join(portalDir, 'departements.csv'),
  );
  portal = await serveFiles(portalDir, examplePortalPort);
});
afterAll(async () => {
  await events.send(new RemoveTargetsCommand({ Rule: ruleName, Ids: ['collect'] })).catch(() => undefined);
  await events.send(new DeleteRuleCommand({ Name: ruleName })).catch(() => undefined);
  portal.close();
  await pool.end();
});

describe('EventBridge schedule on LocalStack', () => {
  it('fires a rate(1 minute) rule that invokes the deployed collect function', async () => {
    const since = new Date();
    await events.send(
      new PutRuleCommand({ Name: ruleName, ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: ruleName,
        Targets: [
          {
            Id: 'collect',
            Arn: `arn:aws:lambda:us-east-1:${localAccount}:function:${outputs.CollectFunctionName}`,
            Input: JSON.stringify({ dataset: 'departements', source: 0 }),
          },
        ],
      }),
    );

    const run = await eventually(
      async () => {
        const { rows } = await pool.query(
          `SELECT status FROM ops.runs WHERE trigger = 'schedule' AND dataset = 'departements' AND started_at >= $1 AND status <> 'running'`,
          [since],
        );
        return rows[0] as { status: string } | undefined;
      },
      150_000,
      'the rule to fire and the collect run to finish',
    );

    expect(['succeeded', 'skipped']).toContain(run.status);
  }, 180_000);
});
