import { PassThrough, Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { TerminalError } from '../errors/errors';
import { ForbiddenAddressError, guardedFetch } from './guard';

export const USER_AGENT = 'datacycle/0.1 (open data pipeline)';

export interface HttpPolicy {
  /** Time to get the response headers, per attempt. */
  timeoutMs: number;
  /** Longest silence while the body streams (a server that drips bytes). */
  idleTimeoutMs: number;
  /** Attempts in all, the first included. */
  attempts: number;
  /** Backoff before retry n is a random delay in [0, min(cap, base · 2^n)] ("full jitter"). */
  backoffBaseMs: number;
  backoffCapMs: number;
  /** Longest Retry-After honoured; a server asking for more gets a failure. */
  maxRetryAfterMs: number;
  maxRedirects: number;
  maxBytes: number;
  /** Requests in flight per host, and the least time between two starts on a host. */
  perHostConcurrency: number;
  perHostIntervalMs: number;
  /**
   * CIDRs that private, loopback and link-local addresses must fall in to be reached
   * (project `network.allow`); public addresses are always reachable.
   */
  allowNetworks: string[];
}

export const defaultHttpPolicy: HttpPolicy = {
  timeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  attempts: 5,
  backoffBaseMs: 500,
  backoffCapMs: 30_000,
  maxRetryAfterMs: 5 * 60_000,
  maxRedirects: 5,
  maxBytes: 2 * 1024 ** 3,
  perHostConcurrency: 2,
  perHostIntervalMs: 100,
  allowNetworks: [],
};

/** A failed request that is worth retrying later (5xx, 429, network): SQS/Lambda retries it. */
export class TransientHttpError extends Error {
  override name = 'TransientHttpError';
  readonly $retryable = true;
}

/** The body failed after the answer began (cut connection, silence): the whole GET may be tried again. */
export class BodyError extends TransientHttpError {
  override name = 'BodyError';
}

export interface HttpResponse {
  url: string;
  status: number;
  headers: Headers;
  /** The body, counted against maxBytes and the idle timeout as it streams. */
  body: Readable;
}

export interface GetOptions {
  headers?: Record<string, string>;
  /**
   * Headers that carry credentials (an API key, a bearer token): sent only to `origin` (by
   * default the requested URL's). A redirect to another origin goes there without them.
   */
  credentials?: { headers: Record<string, string>; origin?: string };
  policy?: Partial<HttpPolicy>;
  /** 304 is an answer, not an error (conditional GET). */
  acceptNotModified?: boolean;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * GET as a good citizen of other people's servers: timeouts, bounded retries with
 * exponential backoff and jitter on network errors, 5xx and 429, Retry-After honoured,
 * redirects followed a bounded number of times, a per-host concurrency and rate limit,
 * a User-Agent naming datacycle, and a maximum body size.
 */
export async function httpGet(url: string, options: GetOptions = {}): Promise<HttpResponse> {
  const policy = { ...defaultHttpPolicy, ...options.policy };
  return retrying(url, () => attemptGet(url, options, policy), { ...options, retryOn: TransientHttpError });
}

/**
 * A GET and the reading of its body, tried again as a whole when the body fails (BodyError):
 * httpGet retries the request, but a body cut half-way is only seen by whoever reads it.
 */
export async function withBodyRetries<T>(
  url: string,
  work: () => Promise<T>,
  options: Pick<GetOptions, 'policy' | 'sleep'> = {},
): Promise<T> {
  return retrying(url, work, { ...options, retryOn: BodyError });
}

/**
 * The one retry loop of the client: `work` again after a backoff with jitter (or the server's
 * Retry-After) while it fails with `retryOn`, up to the policy's attempts; any other error at
 * once. Gives up with a TransientHttpError that says how many attempts and the last reason.
 */
async function retrying<T>(
  url: string,
  work: () => Promise<T>,
  options: Pick<GetOptions, 'policy' | 'sleep'> & { retryOn: new (...args: never[]) => Error },
): Promise<T> {
  const policy = { ...defaultHttpPolicy, ...options.policy };
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < policy.attempts; attempt++) {
    if (attempt > 0)
      await sleep(lastError instanceof RetryAfter ? lastError.delayMs : backoff(policy, attempt));
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof options.retryOn)) throw error;
      lastError = error;
    }
  }
  throw new TransientHttpError(`GET ${url} failed after ${policy.attempts} attempts: ${lastError?.message}`);
}

class RetryAfter extends TransientHttpError {
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
  }
}

function backoff(policy: HttpPolicy, attempt: number): number {
  return Math.random() * Math.min(policy.backoffCapMs, policy.backoffBaseMs * 2 ** attempt);
}

async function attemptGet(url: string, options: GetOptions, policy: HttpPolicy): Promise<HttpResponse> {
  let current = url;
  const credentialOrigin = options.credentials?.origin ?? new URL(url).origin;
  for (let redirects = 0; ; redirects++) {
    // Every hop goes through the guard, redirects included: a public URL may not redirect to
    // a private one.
    const response = await withHostSlot(new URL(current).host, policy, () =>
      guardedFetch(
        current,
        {
          headers: {
            'user-agent': USER_AGENT,
            accept: '*/*',
            ...options.headers,
            // Credentials stay with their origin, as browsers do on a cross-origin redirect.
            ...(new URL(current).origin === credentialOrigin ? options.credentials?.headers : {}),
          },
          redirect: 'manual',
          signal: AbortSignal.timeout(policy.timeoutMs),
        },
        { allow: policy.allowNetworks },
      ).catch((error: Error) => {
        if (error instanceof ForbiddenAddressError)
          throw new TerminalError(`GET ${current}: ${error.message}`);
        const cause = (error.cause as Error | undefined)?.message ?? error.message;
        throw new TransientHttpError(
          `GET ${current}: ${error.name === 'TimeoutError' ? `no answer within ${policy.timeoutMs} ms` : cause}`,
        );
      }),
    );
    const status = response.status;
    if (status >= 300 && status < 400 && status !== 304) {
      const location = response.headers.get('location');
      await response.body?.cancel();
      if (!location) throw new TerminalError(`GET ${current}: redirect ${status} without a Location`);
      if (redirects >= policy.maxRedirects)
        throw new TerminalError(`GET ${url}: more than ${policy.maxRedirects} redirects`);
      current = new URL(location, current).toString();
      continue;
    }
    if (status === 304 && options.acceptNotModified)
      return { url: current, status, headers: response.headers, body: Readable.from([]) };
    if (status === 429 || status === 503) {
      await response.body?.cancel();
      const delay = retryAfterMs(response.headers.get('retry-after'));
      if (delay !== undefined && delay > policy.maxRetryAfterMs) {
        throw new TransientHttpError(
          `GET ${current}: ${status}, the server asks to wait ${Math.round(delay / 1000)} s`,
        );
      }
      if (delay !== undefined)
        throw new RetryAfter(`GET ${current}: ${status}, retry after ${Math.round(delay / 1000)} s`, delay);
      throw new TransientHttpError(`GET ${current}: ${status}`);
    }
    if (status >= 500) {
      await response.body?.cancel();
      throw new TransientHttpError(`GET ${current}: ${status} ${response.statusText}`);
    }
    if (status >= 400 || !response.body) {
      await response.body?.cancel();
      throw new TerminalError(
        `GET ${current}: ${status} ${response.statusText}`,
        'check the source URL and its credentials',
      );
    }
    const declared = Number(response.headers.get('content-length') ?? 0);
    if (declared > policy.maxBytes) {
      await response.body.cancel();
      throw new TerminalError(
        `GET ${current}: ${declared} bytes announced, over the limit of ${policy.maxBytes}`,
      );
    }
    return {
      url: current,
      status,
      headers: response.headers,
      body: guardBody(response.body as WebReadableStream, current, policy, declared),
    };
  }
}

/**
 * Counts bytes and watches for silence while the body streams; a body cut short (the
 * connection closed before the length announced, or mid-chunk) fails with a BodyError that
 * says how much arrived, never a bare "terminated".
 */
function guardBody(body: WebReadableStream, url: string, policy: HttpPolicy, announced: number): Readable {
  const source = Readable.fromWeb(body);
  const stream = new PassThrough();
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  source.on('error', (error) => {
    if (error instanceof TransientHttpError || error instanceof TerminalError) return stream.destroy(error);
    const cause = (error.cause as Error | undefined)?.message ?? error.message;
    const of = announced > 0 ? ` of the ${announced} announced` : '';
    stream.destroy(new BodyError(`GET ${url}: the body was cut after ${bytes} bytes${of} (${cause})`));
  });
  source.pipe(stream);
  stream.on('close', () => source.destroy());
  // Whoever reads the body gets its error; a body left unread must not end the process.
  stream.on('error', () => undefined);
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () =>
        stream.destroyed ||
        stream.destroy(new BodyError(`GET ${url}: no data for ${policy.idleTimeoutMs} ms (slow server)`)),
      policy.idleTimeoutMs,
    );
  };
  arm();
  source.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > policy.maxBytes)
      stream.destroy(new TerminalError(`GET ${url}: body over the limit of ${policy.maxBytes} bytes`));
    else arm();
  });
  // Silence only matters while bytes are still expected.
  const disarm = () => clearTimeout(timer);
  source.on('end', disarm);
  source.on('close', disarm);
  stream.on('close', disarm);
  return stream;
}

/** Retry-After as seconds or an HTTP date, in milliseconds. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

// Per-host slots: at most N requests in flight, starts spaced by an interval.
const hosts = new Map<string, { active: number; lastStart: number; waiting: (() => void)[] }>();

async function withHostSlot<T>(host: string, policy: HttpPolicy, work: () => Promise<T>): Promise<T> {
  const state = hosts.get(host) ?? { active: 0, lastStart: 0, waiting: [] };
  hosts.set(host, state);
  while (state.active >= policy.perHostConcurrency)
    await new Promise<void>((resolve) => state.waiting.push(resolve));
  state.active++;
  const wait = state.lastStart + policy.perHostIntervalMs - Date.now();
  state.lastStart = Math.max(Date.now(), state.lastStart + policy.perHostIntervalMs);
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  try {
    return await work();
  } finally {
    state.active--;
    state.waiting.shift()?.();
  }
}
