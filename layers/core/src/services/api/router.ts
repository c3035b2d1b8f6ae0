import type { S3Client } from '@aws-sdk/client-s3';
import type pg from 'pg';
import type { Logger } from '../../platform/logging';
import { sameSecret } from '../../platform/secrets';
import type { Project } from '../../platform/project';
import type { DeliveryQueue, SecretStore } from '../webhooks';
import { notFound, Problem, problemResponse, type ApiRequest, type ApiResponse } from './http';

export interface ApiContext {
  pool: pg.Pool;
  project: Project;
  s3: S3Client;
  publicBucket: string;
  /**
   * Whether a presented key is the API key that guards subscriptions (or, during a rotation's
   * overlap, the one it replaced); undefined: the webhooks API is off.
   */
  apiKey?: (matches: (key: string) => boolean) => Promise<boolean>;
  secrets: SecretStore;
  deliveries?: DeliveryQueue;
  /** Where unexpected errors are logged. */
  log?: Logger;
}

export type RouteHandler = (
  context: ApiContext,
  request: ApiRequest,
  params: string[],
) => Promise<ApiResponse>;

export interface Route {
  method: string;
  pattern: RegExp;
  handler: RouteHandler;
  /** Needs the API key. */
  keyed?: boolean;
}

/**
 * Answers one request with the first route whose pattern and method match; every error
 * becomes a problem+json response, never a crash.
 */
export async function routeRequest(
  routes: Route[],
  context: ApiContext,
  request: ApiRequest,
): Promise<ApiResponse> {
  const instance = request.path;
  try {
    if (request.method === 'OPTIONS')
      return {
        status: 204,
        headers: {
          'access-control-allow-origin': '*',
          'access-control-allow-methods': 'GET, POST, PATCH, DELETE',
          'access-control-allow-headers': 'authorization, content-type',
        },
        body: '',
      };
    const matches = routes
      .map((route) => ({ route, match: route.pattern.exec(request.path) }))
      .filter((candidate) => candidate.match);
    if (matches.length === 0) throw notFound(`no endpoint ${request.path}; see /openapi.json`);
    const found = matches.find((candidate) => candidate.route.method === request.method);
    if (!found)
      throw new Problem(405, 'Method not allowed', `${request.method} ${request.path}`, [], {
        allow: matches.map((candidate) => candidate.route.method).join(', '),
      });
    if (found.route.keyed) await authorize(context, request);
    const params = found.match!.slice(1).map((value) => {
      try {
        return decodeURIComponent(value);
      } catch {
        // Not a name any resource has (percent-encoding that is not UTF-8).
        throw notFound(`no resource ${request.path}`);
      }
    });
    return await found.route.handler(context, request, params);
  } catch (error) {
    if (error instanceof Problem) return problemResponse(error, instance);
    context.log?.error('request failed', { path: request.path, error });
    return problemResponse(
      new Problem(500, 'Internal error', 'the request could not be answered; it was logged'),
      instance,
    );
  }
}

/**
 * Whether the caller sent the API key: false without an Authorization header; a wrong key is
 * refused (401) rather than read as anonymous, so that a client with a stale key hears of it.
 */
export async function callerHoldsKey(context: ApiContext, request: ApiRequest): Promise<boolean> {
  if (!request.headers.authorization) return false;
  await authorize(context, request);
  return true;
}

async function authorize(context: ApiContext, request: ApiRequest): Promise<void> {
  if (!context.apiKey)
    throw new Problem(503, 'Webhooks API not configured', 'no API key is set for this deployment');
  const given = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
  if (!(await context.apiKey((key) => sameSecret(given, key))))
    throw new Problem(401, 'Unauthorized', 'send the API key as `Authorization: Bearer <key>`', [], {
      'www-authenticate': 'Bearer realm="datacycle"',
    });
}
