import type { SESClient } from '@aws-sdk/client-ses';
import type pg from 'pg';
import { guardedFetch, type NetworkPolicy } from '../../platform/net/guard';
import { USER_AGENT } from '../../platform/net/http-client';
import { TerminalError } from '../../platform/errors/errors';
import type { ProjectConfig } from '../../platform/project';
import type { RaisedAlert } from '../../platform/events';

export type AlertChannel = ProjectConfig['alerts']['channels'][number];

/**
 * The message a Slack- or Mattermost-compatible incoming webhook shows: a first line that
 * says what failed and where, then why and what to do.
 */
export function webhookMessage(alert: RaisedAlert, project: string): { text: string } {
  const icon = alert.severity === 'error' ? ':red_circle:' : ':warning:';
  const lines = [
    `${icon} *[${project}] ${alert.title}*`,
    alert.message,
    alert.hint ? `→ ${alert.hint}` : '',
    alert.runId ? `run \`${alert.runId}\` · \`datacycle run ${alert.runId}\`` : '',
  ];
  return { text: lines.filter(Boolean).join('\n') };
}

/** The email of an alert: the subject says what failed, the body why, where and what to do. */
export function emailMessage(alert: RaisedAlert, project: string): { subject: string; text: string } {
  const lines = [
    alert.message,
    '',
    alert.hint ? `What to do: ${alert.hint}` : '',
    alert.runId ? `Run: ${alert.runId} (datacycle run ${alert.runId})` : '',
    `Severity: ${alert.severity} · kind: ${alert.kind}${alert.subject ? ` · ${alert.subject}` : ''}`,
  ];
  return {
    subject: `[${project}] ${alert.severity === 'error' ? '' : '(warning) '}${alert.title}`,
    text: lines.filter((line, index) => line !== '' || index === 1).join('\n'),
  };
}

async function sendEmail(
  ses: SESClient,
  channel: Extract<AlertChannel, { type: 'email' }>,
  message: { subject: string; text: string },
  also: string[] = [],
) {
  const { SendEmailCommand } = await import('@aws-sdk/client-ses');
  await ses.send(
    new SendEmailCommand({
      Source: channel.from,
      Destination: { ToAddresses: [...new Set([channel.to, also].flat())] },
      Message: {
        Subject: { Data: message.subject, Charset: 'UTF-8' },
        Body: { Text: { Data: message.text, Charset: 'UTF-8' } },
      },
    }),
  );
}

/** POSTs the alert to a webhook; a refusal (4xx) is final, a 5xx or network error is worth a retry. */
async function postWebhook(url: string, body: unknown, network: NetworkPolicy): Promise<void> {
  const response = await guardedFetch(
    url,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
      redirect: 'manual',
    },
    network,
  );
  await response.arrayBuffer(); // release the connection
  if (response.status >= 400 && response.status < 500 && response.status !== 429) {
    throw new TerminalError(
      `the alert webhook ${new URL(url).host} refused the alert (HTTP ${response.status})`,
      'check the webhook URL in datacycle.yaml (alerts.channels)',
    );
  }
  if (!response.ok) throw new Error(`the alert webhook answered HTTP ${response.status}`);
}

/**
 * Delivers one alert to every channel of the project, then marks it delivered in ops.alerts.
 * Throws when a channel could not be reached, so the queue delivers the alert again.
 */
export async function notifyChannels(
  context: { pool: pg.Pool; project: ProjectConfig; ses?: SESClient },
  alert: RaisedAlert,
): Promise<{ channels: number }> {
  const channels = context.project.alerts.channels;
  for (const channel of channels) {
    if (channel.type === 'webhook')
      await postWebhook(channel.url, webhookMessage(alert, context.project.name), context.project.network);
    else {
      context.ses ??= new (await import('@aws-sdk/client-ses')).SESClient({});
      // A disabled webhook subscription is news for its owner too.
      const owner = alert.kind === 'subscription-disabled' ? alert.details?.owner : undefined;
      await sendEmail(
        context.ses,
        channel,
        emailMessage(alert, context.project.name),
        typeof owner === 'string' ? [owner] : [],
      );
    }
  }
  if (alert.id)
    await context.pool.query('UPDATE ops.alerts SET delivered_at = now() WHERE id = $1', [alert.id]);
  return { channels: channels.length };
}
