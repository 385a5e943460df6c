/**
 * The read side of the HTTP API: `GET /reactions` (the leaderboard) and `GET /healthz`. One
 * function for both, routed by `routeKey`, because they need the same read-only permissions.
 */
import type { Context } from 'aws-lambda';
import {
  ReactometerError,
  answerError,
  checkHealth,
  listReactions,
  type EdgeAnswer,
} from '@reactometer/shared';
import { authorizeViewer, bearerToken, corsHeaders } from '@reactometer/shared/auth';
import { createComposition } from '../composition.js';
import {
  headerLookup,
  json,
  requestLine,
  type HttpEvent,
  type HttpResult,
} from '../edge/http-event.js';

const app = createComposition(process.env);
const store = app.store();
// Reads come from the warm container's copy of the counts (COUNTS_CACHE_MS), not a Scan each.
const counts = app.counts();
const inbox = app.inbox();
const logger = app.logger();
const access = app.accessConfig();

const NO_STORE = { 'cache-control': 'no-store' };

function ok(body: unknown): EdgeAnswer {
  return { status: 200, body, level: 'info', message: 'request', fields: { status: 200 } };
}

/** By route key; a Map, so that no key finds a member of `Object.prototype`. */
const routes = new Map<string, (event: HttpEvent) => Promise<EdgeAnswer>>([
  [
    'GET /reactions',
    async (event) => {
      // The leaderboard is the company's data: a viewer token when DASHBOARD_AUTH is on.
      await authorizeViewer(access, {
        token: bearerToken(headerLookup(event.headers)('authorization')),
        nowMs: Date.now(),
        checkOrigin: false,
      });
      return ok({ reactions: await listReactions(counts) });
    },
  ],
  // Never throws: whatever ping threw is a 503 (see answerHealth). The inbox's depth rides along.
  ['GET /healthz', () => checkHealth(store, () => inbox.status())],
]);

export async function handler(event: HttpEvent, context?: Context): Promise<HttpResult> {
  const route =
    event.routeKey && event.routeKey !== '$default' ? event.routeKey : requestLine(event);
  const answer = routes.get(route);
  let result: EdgeAnswer;
  try {
    if (answer === undefined) throw new ReactometerError('not_found', `no route for ${route}`);
    result = await answer(event);
  } catch (err) {
    result = answerError(err);
  }
  // Only failures are logged: health probes every few seconds would drown the rest.
  if (result.status >= 400) {
    logger[result.level](result.message, {
      awsRequestId: context?.awsRequestId,
      route,
      ...result.fields,
    });
  }
  // On AWS the HTTP API's CORS configuration (serverless.yml) answers for the function; these
  // headers are the same rule for any other front (and say it in one place: the core).
  const cors = corsHeaders(headerLookup(event.headers)('origin'), access.allowedOrigins);
  return json(result.status, result.body, { ...cors, ...(result.status === 200 ? NO_STORE : {}) });
}
