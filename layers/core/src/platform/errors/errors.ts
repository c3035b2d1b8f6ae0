/**
 * Two kinds of failure. A transient one (network, throttling, lock timeout, database
 * restarting) fails the message so that SQS retries it; a terminal one (bad data, bad
 * config) is recorded once with a clear message and never retried.
 */
export class TerminalError extends Error {
  override name = 'TerminalError';
  constructor(
    message: string,
    /** What the user can do about it. */
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** SQLSTATE classes and codes that say "try again later". */
const transientSqlStates = [/^08/, /^53/, /^57P0[1-3]$/, /^40001$/, /^40P01$/, /^55P03$/, /^58/];
const transientNodeCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
]);
const transientAwsNames = new Set([
  'ThrottlingException',
  'Throttling',
  'SlowDown',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
  'TimeoutError',
]);

/** The one place that decides whether an error is worth a retry. */
export function isTransient(error: unknown): boolean {
  if (error instanceof TerminalError) return false;
  if (!(error instanceof Error)) return false;
  const details = error as Error & {
    code?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
  };
  if (typeof details.code === 'string') {
    if (transientSqlStates.some((pattern) => pattern.test(details.code as string))) return true;
    if (transientNodeCodes.has(details.code)) return true;
  }
  if (transientAwsNames.has(error.name) || details.$retryable) return true;
  const status = details.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  if (/Connection terminated|timeout exceeded when trying to connect/i.test(error.message)) return true;
  return false;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const runIds = new WeakMap<object, string>();

/** Remembers which run an error ended, for whoever reports it further up (alerts). */
export function failedRun<T>(error: T, runId: string): T {
  if (typeof error === 'object' && error !== null && !runIds.has(error)) runIds.set(error, runId);
  return error;
}

/** The run an error ended, if the code that failed said so (see failedRun). */
export function runIdOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? runIds.get(error) : undefined;
}
