import type { ApiRequest, ApiResponse } from './http';
import { dataRoutes } from './data-routes';
import { historyRoutes } from './history-routes';
import { routeRequest, type ApiContext } from './router';
import { subscriptionRoutes } from './subscription-routes';

/** Every route of the API: reading data (open), administering webhooks (API key). */
const routes = [...dataRoutes, ...historyRoutes, ...subscriptionRoutes];

/** Answers one request of the read API; every error becomes a problem+json response. */
export function handleApiRequest(context: ApiContext, request: ApiRequest): Promise<ApiResponse> {
  return routeRequest(routes, context, request);
}

export type { ApiContext } from './router';
