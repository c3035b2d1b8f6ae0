import type { z } from 'zod';
/** An HTTP request as the API sees it, whatever carried it (function URL, Node's server). */
export interface ApiRequest {
  method: string;
  /** Path without the query, e.g. /datasets/irve-statique/rows */
  path: string;
  query: URLSearchParams;
  /** Lower-case names. */
  headers: Record<string, string | undefined>;
  body?: string;
  /** Scheme and host the client used, for absolute links (https://abc.lambda-url…). */
  baseUrl: string;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Readable by any origin: the data is public (subscriptions need the key all the same). */
const common = { 'access-control-allow-origin': '*', 'cache-control': 'no-store' };

export function json(status: number, value: unknown, headers: Record<string, string> = {}): ApiResponse {
  return {
    status,
    headers: { ...common, 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(value),
  };
}

export function text(
  status: number,
  body: string,
  contentType: string,
  headers: Record<string, string> = {},
) {
  return { status, headers: { ...common, 'content-type': contentType, ...headers }, body };
}

/** One problem of a request: a parameter, with what is wrong with it. */
export interface ProblemDetail {
  parameter?: string;
  message: string;
}

/**
 * An RFC 9457 problem: what went wrong (title), about this request (detail), and, for
 * invalid parameters, each one with its message.
 */
export class Problem extends Error {
  override name = 'Problem';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly errors: ProblemDetail[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }
}

const problemTypes: Record<number, string> = {
  400: 'invalid-request',
  401: 'unauthorized',
  404: 'not-found',
  405: 'method-not-allowed',
  409: 'conflict',
  413: 'payload-too-large',
  503: 'unavailable',
};

export function problemResponse(problem: Problem, instance: string): ApiResponse {
  return {
    status: problem.status,
    headers: { ...common, 'content-type': 'application/problem+json', ...problem.headers },
    body: JSON.stringify({
      type: `https://datacycle.dev/problems/${problemTypes[problem.status] ?? 'error'}`,
      title: problem.title,
      status: problem.status,
      ...(problem.detail ? { detail: problem.detail } : {}),
      instance,
      ...(problem.errors.length > 0 ? { errors: problem.errors } : {}),
    }),
  };
}

export const badRequest = (detail: string, errors: ProblemDetail[] = []) =>
  new Problem(400, 'Invalid request', detail, errors);
export const notFound = (detail: string) => new Problem(404, 'Not found', detail);

/** The query as an object, each parameter once (a repeated one is an error). */
export function queryObject(query: URLSearchParams): Record<string, string> {
  const object: Record<string, string> = {};
  for (const [key, value] of query) {
    if (key in object) throw badRequest(`${key} given twice`, [{ parameter: key, message: 'give it once' }]);
    object[key] = value;
  }
  return object;
}

export function zodProblem(error: z.ZodError, what: string): Problem {
  return badRequest(
    `invalid ${what}`,
    error.issues.map((issue) => ({
      parameter:
        issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : undefined),
      message: issue.message,
    })),
  );
}
