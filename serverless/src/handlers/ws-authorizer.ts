/**
 * The WebSocket API's Lambda REQUEST authorizer on `$connect`: the same decision as the droplet's
 * upgrade (`authorizeViewer`): a browser Origin not on ALLOWED_ORIGINS is denied (403), and with
 * DASHBOARD_AUTH on, the `token` query parameter must be a valid viewer token (401), since
 * browsers cannot set headers on a WebSocket.
 *
 * How a refusal is said differs between AWS and serverless-offline: API Gateway answers 401 when
 * the authorizer throws `Unauthorized` and 403 for a Deny policy; the emulator answers 401 for a
 * returned string `Unauthorized`, 403 for a Deny policy, and 500 for anything thrown.
 *
 * The token, and the query string that carries it, are never logged.
 */
import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { isReactometerError, systemClock } from '@reactometer/shared';
import { authorizeViewer } from '@reactometer/shared/auth';
import { createComposition } from '../composition.js';
import { headerLookup } from '../edge/http-event.js';
import { errorText } from '../observability.js';

export type AuthorizerEvent = APIGatewayRequestAuthorizerEvent;
export type AuthorizerResult = APIGatewayAuthorizerResult | 'Unauthorized';

const app = createComposition(process.env);
const access = app.accessConfig();
const logger = app.logger();

function policy(
  effect: 'Allow' | 'Deny',
  principalId: string,
  event: AuthorizerEvent,
): APIGatewayAuthorizerResult {
  return {
    principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: event.methodArn }],
    },
    context: { viewer: principalId },
  };
}

export async function handler(
  event: AuthorizerEvent,
  context?: Context,
): Promise<AuthorizerResult> {
  const origin = headerLookup(event.headers)('origin');
  const token = event.queryStringParameters?.token ?? undefined;
  const fields = {
    awsRequestId: context?.awsRequestId,
    connectionId: event.requestContext?.connectionId,
    origin,
  };
  try {
    const viewer = await authorizeViewer(access, {
      origin,
      token,
      nowMs: systemClock.now(),
      checkOrigin: true,
    });
    return policy('Allow', viewer.sub, event);
  } catch (err) {
    if (!isReactometerError(err)) {
      logger.error('authorizer failed', { ...fields, error: errorText(err) });
      throw err;
    }
    logger.info('connect refused', {
      ...fields,
      status: err.code === 'forbidden_origin' ? 403 : 401,
      errorCode: err.code,
      error: err.message,
    });
    if (err.code === 'forbidden_origin') return policy('Deny', 'forbidden-origin', event);
    if (access.offline) return 'Unauthorized';
    // API Gateway's contract for "no valid credentials": exactly this message gives the client 401.
    throw new Error('Unauthorized', { cause: err });
  }
}
