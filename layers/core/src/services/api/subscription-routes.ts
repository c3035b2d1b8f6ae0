import {
  createSubscription,
  deleteSubscription,
  enqueueDeliveries,
  getSubscription,
  listSubscriptions,
  replayDeliveries,
  ReplayError,
  rotateSigningSecret,
  subscriptionInputSchema,
  subscriptionPatchSchema,
  SubscriptionError,
  updateSubscription,
} from '../webhooks';
import { badRequest, json, notFound, Problem, zodProblem, type ApiRequest, type ApiResponse } from './http';
import type { ApiContext, Route, RouteHandler } from './router';

/** Ids as the platform makes them (anything else names no subscription or delivery: 404). */
export const SUBSCRIPTION_ID_PATTERN = 'sub_[A-Za-z0-9_-]{16}';
export const DELIVERY_ID_PATTERN = 'msg_[0-9a-f]{32}';
const subscriptionId = `(${SUBSCRIPTION_ID_PATTERN})`;

/** Administration of webhook subscriptions and their deliveries (API key required). */
export const subscriptionRoutes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/subscriptions$/,
    handler: answeringWebhookErrors(subscriptions),
    keyed: true,
  },
  { method: 'POST', pattern: /^\/subscriptions$/, handler: answeringWebhookErrors(subscribe), keyed: true },
  {
    method: 'GET',
    pattern: new RegExp(`^/subscriptions/${subscriptionId}$`),
    handler: answeringWebhookErrors(subscription),
    keyed: true,
  },
  {
    method: 'PATCH',
    pattern: new RegExp(`^/subscriptions/${subscriptionId}$`),
    handler: answeringWebhookErrors(patchSubscription),
    keyed: true,
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^/subscriptions/${subscriptionId}$`),
    handler: answeringWebhookErrors(removeSubscription),
    keyed: true,
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/subscriptions/${subscriptionId}/rotate-secret$`),
    handler: answeringWebhookErrors(rotate),
    keyed: true,
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/subscriptions/${subscriptionId}/deliveries$`),
    handler: answeringWebhookErrors(deliveries),
    keyed: true,
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/subscriptions/${subscriptionId}/replay$`),
    handler: answeringWebhookErrors(replayFailed),
    keyed: true,
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/deliveries/(${DELIVERY_ID_PATTERN})/replay$`),
    handler: answeringWebhookErrors(replayOne),
    keyed: true,
  },
];

/** The webhooks' own refusals, as problem+json answers. */
function answeringWebhookErrors(handler: RouteHandler): RouteHandler {
  return async (context, request, params) => {
    try {
      return await handler(context, request, params);
    } catch (error) {
      if (error instanceof SubscriptionError)
        throw badRequest(error.message, [{ parameter: error.field, message: error.message }]);
      if (error instanceof ReplayError)
        throw new Problem(error.status, error.status === 404 ? 'Not found' : 'Conflict', error.message);
      throw error;
    }
  };
}

function bodyOf(request: ApiRequest): unknown {
  if (!(request.headers['content-type'] ?? '').startsWith('application/json'))
    throw new Problem(415, 'Unsupported media type', 'send a JSON body (content-type: application/json)');
  if ((request.body?.length ?? 0) > 16_384) throw new Problem(413, 'Payload too large', 'at most 16 KB');
  try {
    return JSON.parse(request.body ?? '');
  } catch {
    throw badRequest('the body is not JSON');
  }
}

const subscriptionContext = (context: ApiContext) => ({
  pool: context.pool,
  secrets: context.secrets,
  project: context.project,
});

async function subscriptions(context: ApiContext): Promise<ApiResponse> {
  return json(200, { data: await listSubscriptions(context.pool) });
}

async function subscribe(context: ApiContext, request: ApiRequest): Promise<ApiResponse> {
  const parsed = subscriptionInputSchema.safeParse(bodyOf(request));
  if (!parsed.success) throw zodProblem(parsed.error, 'subscription');
  const { subscription: created, secret } = await createSubscription(
    subscriptionContext(context),
    parsed.data,
  );
  return json(201, { ...created, secret }, { location: `${request.baseUrl}/subscriptions/${created.id}` });
}

async function existing(context: ApiContext, id: string) {
  const found = await getSubscription(context.pool, id);
  if (!found) throw notFound(`no subscription ${id}`);
  return found;
}

async function subscription(context: ApiContext, _request: ApiRequest, [id]: string[]): Promise<ApiResponse> {
  return json(200, await existing(context, id!));
}

async function patchSubscription(
  context: ApiContext,
  request: ApiRequest,
  [id]: string[],
): Promise<ApiResponse> {
  const parsed = subscriptionPatchSchema.safeParse(bodyOf(request));
  if (!parsed.success) throw zodProblem(parsed.error, 'subscription change');
  const updated = await updateSubscription(subscriptionContext(context), id!, parsed.data);
  if (!updated) throw notFound(`no subscription ${id}`);
  return json(200, updated);
}

async function removeSubscription(
  context: ApiContext,
  _request: ApiRequest,
  [id]: string[],
): Promise<ApiResponse> {
  if (!(await deleteSubscription(subscriptionContext(context), id!))) throw notFound(`no subscription ${id}`);
  return { status: 204, headers: { 'access-control-allow-origin': '*' }, body: '' };
}

async function rotate(context: ApiContext, _request: ApiRequest, [id]: string[]): Promise<ApiResponse> {
  await existing(context, id!);
  const { secret, previousUntil } = await rotateSigningSecret(context.secrets, id!, 24);
  return json(200, { secret, previousValidUntil: previousUntil });
}

async function deliveries(context: ApiContext, request: ApiRequest, [id]: string[]): Promise<ApiResponse> {
  await existing(context, id!);
  const status = request.query.get('status');
  if (status !== null && !['pending', 'retrying', 'succeeded', 'failed', 'cancelled'].includes(status))
    throw badRequest('unknown status', [
      { parameter: 'status', message: 'pending, retrying, succeeded, failed or cancelled' },
    ]);
  const { rows } = await context.pool.query(
    `SELECT d.id, d.event_id AS "eventId", d.event_type AS "eventType", d.status, d.attempts,
       d.next_attempt_at AS "nextAttemptAt", d.last_status_code AS "lastStatusCode", d.last_error AS "lastError",
       d.created_at AS "createdAt",
       coalesce((SELECT json_agg(json_build_object('attempt', a.attempt, 'at', a.attempted_at, 'statusCode', a.status_code,
                  'latencyMs', a.latency_ms, 'error', a.error, 'outcome', a.outcome) ORDER BY a.id)
                 FROM ops.delivery_attempts a WHERE a.delivery_id = d.id), '[]') AS log
     FROM ops.deliveries d WHERE d.subscription_id = $1 AND ($2::text IS NULL OR d.status = $2)
     ORDER BY d.created_at DESC LIMIT 100`,
    [id, status],
  );
  return json(200, { data: rows });
}

async function replayed(context: ApiContext, ids: string[]): Promise<ApiResponse> {
  if (!context.deliveries)
    throw new Problem(503, 'Replay unavailable', 'no deliveries queue in this deployment');
  await enqueueDeliveries(
    context.deliveries,
    ids.map((deliveryId) => ({ deliveryId, attempt: 0 })),
  );
  return json(202, { replayed: ids });
}

async function replayFailed(context: ApiContext, _request: ApiRequest, [id]: string[]): Promise<ApiResponse> {
  return replayed(context, await replayDeliveries(context.pool, { subscriptionId: id! }));
}

async function replayOne(context: ApiContext, _request: ApiRequest, [id]: string[]): Promise<ApiResponse> {
  return replayed(context, await replayDeliveries(context.pool, { deliveryId: id! }));
}
