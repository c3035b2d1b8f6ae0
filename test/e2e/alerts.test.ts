/**
 * Alerts through the deployed stack: a failing scheduled collection and a rejected drop each
 * raise an alert (ops.alerts + the project's event bus) → rule → alerts queue → notify
 * function → the project's webhook channel (a local receiver, as in the demo).
 */
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiveAlerts, type AlertReceiver } from '../../localcloud/alert-receiver';
import { examplePortalPort } from '../../localcloud/example-portal';
import { serveFiles } from '../../localcloud/file-server';
import { fireSchedule } from '../../localcloud/schedules';
import { localstackEndpoint } from '../../localcloud/settings';
import { eventually, localS3, readStackOutputs, testPool, uniqueName } from '../helpers/local-cloud';

const outputs = readStackOutputs();
const pool = testPool();
const s3 = localS3();
let receiver: AlertReceiver;
let portal: Server;

interface AlertRow {
  kind: string;
  severity: string;
  subject: string;
  run_id: string | null;
  title: string;
  message: string;
  delivered_at: Date | null;
}

// Other schedules fire by themselves meanwhile and may raise alerts of the same kind: the
// subject picks the one a test caused.
const alertSince = (since: Date, kind: string, subject: string) =>
  eventually(
    async () => {
      const { rows } = await pool.query<AlertRow>(
        'SELECT * FROM ops.alerts WHERE raised_at >= $1 AND kind = $2 AND subject = $3 AND delivered_at IS NOT NULL',
        [since, kind, subject],
      );
      return rows[0];
    },
    60_000,
    `a delivered ${kind} alert about ${subject}`,
  );

beforeAll(async () => {
  receiver = await receiveAlerts();
  // The portal is up but no longer has the file: the source answers 404.
  portal = await serveFiles(mkdtempSync(path.join(tmpdir(), 'dc-empty-portal-')), examplePortalPort);
});
afterAll(async () => {
  await receiver.close();
  portal.close();
  await pool.end();
});

describe('alerts on the deployed stack', () => {
  it('a scheduled collection that fails raises one alert, delivered to the webhook channel', async () => {
    const since = new Date();
    const rule = (JSON.parse(outputs.ScheduleRules) as Record<string, string>)['departements:0']!;
    await fireSchedule(rule);

    const alert = await alertSince(since, 'collect-failed', 'departements');

    expect(alert).toMatchObject({
      severity: 'error',
      subject: 'departements',
      title: 'collection of departements failed',
    });
    expect(alert.message).toMatch(/departements\.csv.*404/);
    const { rows: runs } = await pool.query('SELECT status, error FROM ops.runs WHERE id = $1', [
      alert.run_id,
    ]);
    expect(runs).toEqual([{ status: 'failed', error: expect.stringMatching(/404/) }]);
    const message = receiver.received.find((m) => m.text.includes('collection of departements failed'));
    expect(message?.text).toContain('[territoires]');
    expect(message?.text).toContain(`datacycle run ${alert.run_id}`);
    // The email channel got it too, through SES (LocalStack keeps sent mails for inspection).
    const { messages } = (await (await fetch(`${localstackEndpoint}/_aws/ses`)).json()) as {
      messages: {
        Source: string;
        Destination: { ToAddresses: string[] };
        Subject: string;
        Body: { text_part: string };
      }[];
    };
    const mail = messages.find(
      (m) =>
        m.Subject === '[territoires] collection of departements failed' &&
        m.Body.text_part.includes(alert.run_id!),
    );
    expect(mail).toMatchObject({
      Source: 'alertes-datacycle@example.org',
      Destination: { ToAddresses: ['equipe-data@example.org'] },
    });
    expect(mail?.Body.text_part).toContain('What to do:');
    // Not retried by Lambda: one failed run, one alert. (Other schedules fire by themselves
    // meanwhile, and fail against this empty portal too: only departements' alerts count.)
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const { rows: count } = await pool.query(
      "SELECT count(*)::int AS n FROM ops.alerts WHERE raised_at >= $1 AND kind = 'collect-failed' AND subject = 'departements'",
      [since],
    );
    expect(count).toEqual([{ n: 1 }]);
  });

  it('a rejected drop raises an alert that points at its report', async () => {
    const since = new Date();
    const key = `irve-statique/${uniqueName('bad')}.csv`;
    await s3.send(
      new PutObjectCommand({ Bucket: outputs.LandingBucket, Key: key, Body: 'wrong,header\n1,2\n' }),
    );

    const alert = await alertSince(since, 'file-rejected', 'irve-statique');

    expect(alert).toMatchObject({ severity: 'error', subject: 'irve-statique' });
    expect(alert.title).toBe(`${key} was rejected: nothing loaded into irve-statique`);
    expect(alert.message).toMatch(/missing columns: nom_amenageur/);
    const message = receiver.received.find((m) => m.text.includes(key));
    expect(message?.text).toMatch(/reports\/.*\.md/);
  });
});
