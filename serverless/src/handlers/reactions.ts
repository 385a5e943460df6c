/**
 * The read side of the HTTP API: `GET /reactions` (the leaderboard) and `GET /healthz`. One
 * function for both, routed by `routeKey`, because they need the same read-only permissions.
 */
import type { Context } from 'aws-lambda';
import {
  ReactometerError,
  StoreUnavailableError,
  isReactometerError,
  listReactions,
} from '@reactometer/shared';
import { createComposition } from '../composition.js';
import {
  errorResult,
  json,
  requestLine,
  type HttpEvent,
  type HttpResult,
} from '../edge/http-event.js';
import { errorText } from '../observability.js';

const app = createComposition(process.env);
const store = app.store();
const logger = app.logger();

const NO_STORE = { 'cache-control': 'no-store' };

const routes: Record<string, () => Promise<HttpResult>> = {
  'GET /reactions': async () => json(200, { reactions: await listReactions(store) }, NO_STORE),
  'GET /healthz': async () => {
    try {
      await store.ping();
    } catch (err) {
      // Whatever went wrong, the answer to "can this deployment serve?" is no: 503, never 500.
      throw isReactometerError(err)
        ? err
        : new StoreUnavailableError('store did not answer', { cause: err });
    }
    return json(200, { status: 'ok' }, NO_STORE);
  },
};

export async function handler(event: HttpEvent, context?: Context): Promise<HttpResult> {
  const route =
    event.routeKey && event.routeKey !== '$default' ? event.routeKey : requestLine(event);
  const answer = routes[route];
  try {
    if (answer === undefined) throw new ReactometerError('not_found', `no route for ${route}`);
    return await answer();
  } catch (err) {
    const response = errorResult(err);
    const line = {
      awsRequestId: context?.awsRequestId,
      route,
      status: response.statusCode,
      error: errorText(err),
    };
    if ((response.statusCode ?? 500) >= 500)
      logger.error('request failed', { ...line, cause: err });
    else logger.info('request rejected', line);
    return response;
  }
}
