import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
// The reference implementation of the specification (its JavaScript library), not ours.
import { Webhook } from 'standardwebhooks';

// Below the ephemeral port range, as examplePortalPort (see example-portal.ts).
/** The demo's subscriber (webhooks.subscriptions in the example project). */
export const webhookReceiverPort = 28763;

/** How the receiver answers the next request: a status (with headers), or never. */
export type Answer = { status: number; headers?: Record<string, string> } | 'hang';

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** What verification said: 'ok', or why it failed. */
  verified: string;
  receivedAt: Date;
  answered: number | 'hang';
}

export interface WebhookReceiver {
  server: Server;
  url: string;
  received: ReceivedWebhook[];
  /** The secrets signatures are checked against (any may match), set once known. */
  secrets: string[];
  /**
   * The secret of the subscriber at a path (many subscribers on one receiver, each at its own
   * path): checked alone, instead of trying every secret.
   */
  secretsByPath: Map<string, string>;
  /** Answers for the next requests, in order; then 204. */
  answers: Answer[];
  close(): Promise<void>;
}

/**
 * A subscriber on loopback that verifies every delivery with the Standard Webhooks reference
 * library (timestamp tolerance, any v1 signature, constant-time comparison) and
 * answers as told: success, an error, 429 with Retry-After, 410 Gone, a redirect, or silence.
 */
export function receiveWebhooks(
  options: { port?: number; secrets?: string[] } = {},
): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const answers: Answer[] = [];
  const secrets = [...(options.secrets ?? [])];
  const secretsByPath = new Map<string, string>();
  const hanging = new Set<() => void>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = req.headers as Record<string, string | undefined>;
      const own = secretsByPath.get(req.url ?? '');
      const verdicts = (own ? [own] : secrets).map((secret) => {
        try {
          new Webhook(secret).verify(body, {
            'webhook-id': headers['webhook-id'] ?? '',
            'webhook-timestamp': headers['webhook-timestamp'] ?? '',
            'webhook-signature': headers['webhook-signature'] ?? '',
          });
          return 'ok';
        } catch (error) {
          return (error as Error).message;
        }
      });
      const answer = answers.shift() ?? { status: 204 };
      received.push({
        id: headers['webhook-id'] ?? '',
        timestamp: headers['webhook-timestamp'] ?? '',
        signature: headers['webhook-signature'] ?? '',
        body,
        verified:
          verdicts.length === 0 ? 'no secret to check' : verdicts.includes('ok') ? 'ok' : verdicts[0]!,
        receivedAt: new Date(),
        answered: answer === 'hang' ? 'hang' : answer.status,
      });
      if (answer === 'hang') {
        const end = () => res.destroy();
        hanging.add(end);
        return;
      }
      // A subscriber refuses what it cannot verify.
      const status =
        verdicts.length > 0 && !verdicts.includes('ok') && answer.status < 300 ? 401 : answer.status;
      res.writeHead(status, answer.headers).end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        server,
        url: `http://127.0.0.1:${port}/webhooks`,
        received,
        secrets,
        secretsByPath,
        answers,
        close: () =>
          new Promise((done) => {
            for (const end of hanging) end();
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
