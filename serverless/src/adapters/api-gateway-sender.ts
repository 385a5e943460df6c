import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { GoneConnectionError, ThrottledError, type ConnectionSender } from '@reactometer/shared';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export interface ManagementClientOptions {
  /** `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`, or serverless-offline's `http://host:port`. */
  readonly endpoint: string;
  readonly region: string;
  /** Sockets per endpoint: at least the fan-out concurrency, or sends queue for a socket. */
  readonly maxSockets: number;
  /** Longest time one PostToConnection may take. */
  readonly requestTimeoutMs: number;
}

/**
 * One management API client per process (module scope). The SDK's default agent allows 50
 * sockets, which would cap a fan-out configured for more; and its default retry strategy would
 * retry throttles on its own, hidden from the fan-out's backoff and metrics, so it gets one
 * attempt and the core decides.
 */
export function createManagementClient(
  options: ManagementClientOptions,
): ApiGatewayManagementApiClient {
  const agent = { keepAlive: true, maxSockets: options.maxSockets };
  return new ApiGatewayManagementApiClient({
    endpoint: options.endpoint,
    region: options.region,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: Math.min(options.requestTimeoutMs, 1000),
      requestTimeout: options.requestTimeoutMs,
      throwOnRequestTimeout: true,
      httpAgent: new Agent(agent),
      httpsAgent: new HttpsAgent(agent),
    }),
  });
}

interface SdkErrorShape {
  readonly name?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
}

// SDK v3 errors carry the service's error code as `name` and the status in `$metadata`; there is
// no `statusCode` property, so the `err.statusCode === 410` of many samples never matches.
const THROTTLE_NAMES = new Set([
  'LimitExceededException',
  'TooManyRequestsException',
  'ThrottlingException',
]);

function shape(err: unknown): SdkErrorShape {
  return typeof err === 'object' && err !== null ? (err as SdkErrorShape) : {};
}

/** 410: the connection is gone (closed, or dropped without a `$disconnect`). */
export function isGoneError(err: unknown): boolean {
  const { name, $metadata } = shape(err);
  return name === 'GoneException' || $metadata?.httpStatusCode === 410;
}

/** 429: API Gateway asks the caller to slow down. */
export function isThrottleError(err: unknown): boolean {
  const { name, $metadata } = shape(err);
  return (
    (typeof name === 'string' && THROTTLE_NAMES.has(name)) || $metadata?.httpStatusCode === 429
  );
}

/** Maps an SDK error to what the `ConnectionSender` port promises. */
export function toSenderError(err: unknown, connectionId: string): unknown {
  if (isGoneError(err)) return new GoneConnectionError(connectionId, { cause: err });
  if (isThrottleError(err)) {
    const { name } = shape(err);
    return new ThrottledError(
      `PostToConnection throttled (${typeof name === 'string' ? name : '429'})`,
      { cause: err },
    );
  }
  return err;
}

/** The core's `ConnectionSender` on the API Gateway management API. */
export class ApiGatewaySender implements ConnectionSender {
  private readonly client: ApiGatewayManagementApiClient;

  constructor(client: ApiGatewayManagementApiClient) {
    this.client = client;
  }

  async send(connectionId: string, data: string): Promise<void> {
    try {
      await this.client.send(
        new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }),
      );
    } catch (err) {
      throw toSenderError(err, connectionId);
    }
  }
}
