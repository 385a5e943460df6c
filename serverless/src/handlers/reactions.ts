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
import { createComposition } from '../composition.js';
import { json, requestLine, type HttpEvent, type HttpResult } from '../edge/http-event.js';

const app = createComposition(process.env);
const store = app.store();
// Reads come from the warm container's copy of the counts (COUNTS_CACHE_MS), not a Scan each.
const counts = app.counts();
const inbox = app.inbox();
const logger = app.logger();

const NO_STORE = { 'cache-control': 'no-store' };

function ok(body: unknown): EdgeAnswer {
  return { status: 200, body, level: 'info', message: 'request', fields: { status: 200 } };
}

const routes: Record<string, () => Promise<EdgeAnswer>> = {
  'GET /reactions': async () => ok({ reactions: await listReactions(counts) }),
  // Never throws: whatever ping threw is a 503 (see answerHealth). The inbox's depth rides along.
  'GET /healthz': () => checkHealth(store, () => inbox.status()),
};

export async function handler(event: HttpEvent, context?: Context): Promise<HttpResult> {
  const route =
    event.routeKey && event.routeKey !== '$default' ? event.routeKey : requestLine(event);
  const answer = routes[route];
  let result: EdgeAnswer;
  try {
    if (answer === undefined) throw new ReactometerError('not_found', `no route for ${route}`);
    result = await answer();
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
  return json(result.status, result.body, result.status === 200 ? NO_STORE : {});
}
