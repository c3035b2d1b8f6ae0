import { createServer, type Server } from 'node:http';

// Below the ephemeral port range, as examplePortalPort (see example-portal.ts).
/** The local stand-in for a Slack/Mattermost incoming webhook (see alerts.channels in the example). */
export const alertReceiverPort = 28762;

export interface AlertReceiver {
  server: Server;
  /** Every message received so far, in order. */
  received: { text: string }[];
  close(): Promise<void>;
}

/** Receives alert webhooks on loopback: records each message and hands it to `onMessage`. */
export function receiveAlerts(
  onMessage: (message: { text: string }) => void = () => undefined,
): Promise<AlertReceiver> {
  const received: { text: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        const message = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text?: unknown };
        if (req.method !== 'POST' || typeof message.text !== 'string')
          throw new Error('not a webhook message');
        received.push({ text: message.text });
        onMessage({ text: message.text });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      } catch {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('expected a JSON body with "text"');
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`port ${alertReceiverPort} is already in use (needed by the alert receiver)`)
          : error,
      ),
    );
    server.listen(alertReceiverPort, '127.0.0.1', () =>
      resolve({ server, received, close: () => new Promise((done) => server.close(() => done())) }),
    );
  });
}
