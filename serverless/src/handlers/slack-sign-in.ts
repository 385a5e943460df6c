/**
 * "Sign in with Slack" on the HTTP API: `GET /auth/slack/login` and `GET /auth/slack/callback`
 * (only with DASHBOARD_AUTH=slack; 404 otherwise). The flow is the core's (`createSlackSignIn`);
 * this function translates payload 2.0 events to it and back. It needs no AWS permission: its
 * role grants only its own logs.
 */
import type { Context } from 'aws-lambda';
import { ReactometerError, toHttpError } from '@reactometer/shared';
import { SIGN_IN_PATHS, createSlackSignIn, type SignInAnswer } from '@reactometer/shared/auth';
import { createComposition } from '../composition.js';
import { headerLookup, json, type HttpEvent, type HttpResult } from '../edge/http-event.js';

const app = createComposition(process.env);
const access = app.accessConfig();
const logger = app.logger();
const flow =
  access.slack === undefined
    ? undefined
    : createSlackSignIn(
        { ...access.slack, allowedOrigins: access.allowedOrigins },
        { fetch: (url, init) => fetch(url, init), nowMs: () => Date.now() },
      );

const HEADERS = { 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' };

/**
 * serverless-offline passes a cookie's attributes (`; Path=...; HttpOnly`) to hapi as part of its
 * value, which hapi refuses with a 500; locally only the pair is sent (the browser then applies
 * its defaults: this path, SameSite=Lax). API Gateway sends the cookie as written.
 */
function cookieFor(setCookie: string): string {
  return access.offline ? setCookie.slice(0, setCookie.indexOf(';')) : setCookie;
}

function toResult(answer: SignInAnswer): HttpResult {
  if ('location' in answer) {
    return {
      statusCode: 302,
      headers: { ...HEADERS, location: answer.location },
      cookies: [cookieFor(answer.setCookie)],
      body: '',
    };
  }
  return json(answer.status, answer.body, HEADERS);
}

export async function handler(event: HttpEvent, context?: Context): Promise<HttpResult> {
  const query = event.queryStringParameters ?? {};
  const path = event.rawPath ?? '';
  let answer: SignInAnswer;
  if (flow === undefined) {
    const { status, body } = toHttpError(
      new ReactometerError('not_found', 'sign-in with Slack is not enabled (DASHBOARD_AUTH)'),
    );
    answer = { status, body, outcome: 'disabled' };
  } else if (path === SIGN_IN_PATHS.login) {
    answer = await flow.start({ return_to: query.return_to });
  } else {
    // HTTP API hands cookies to payload 2.0 functions in `cookies`, not in the headers.
    const cookie = event.cookies?.join('; ') ?? headerLookup(event.headers)('cookie');
    answer = await flow.finish(
      { code: query.code, state: query.state, error: query.error },
      cookie,
    );
  }
  // The path only: the query carries the provider's code and state.
  logger[answer.status >= 500 ? 'error' : 'info']('sign-in', {
    awsRequestId: context?.awsRequestId,
    path,
    status: answer.status,
    outcome: answer.outcome,
  });
  return toResult(answer);
}
