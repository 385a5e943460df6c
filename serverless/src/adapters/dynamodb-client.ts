import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError } from '@reactometer/shared';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export interface DocumentClientOptions {
  /** Local DynamoDB (dynalite) URL; omit to use the regional AWS endpoint. */
  readonly endpoint?: string;
  readonly region: string;
  /** Sockets kept per endpoint. One Lambda invocation runs at a time, but fan-out sends in parallel. */
  readonly maxSockets?: number;
  /** Longest time one attempt may take, queued to response read (default: AWS_TIMEOUTS, or LOCAL_TIMEOUTS with `endpoint`). */
  readonly requestTimeoutMs?: number;
  /** Longest time from queued to a connected socket (default: AWS_TIMEOUTS, or LOCAL_TIMEOUTS with `endpoint`). */
  readonly connectionTimeoutMs?: number;
  /** Total attempts per operation, the first one included. */
  readonly maxAttempts?: number;
}

/**
 * Timeouts when talking to AWS. DynamoDB answers single-item calls in milliseconds inside a
 * region, so these only bite on a real outage: a black-holed store fails after 2 attempts in about
 * 2 s, inside Slack's 3-second deadline, as a 503 that Slack retries.
 */
export const AWS_TIMEOUTS = { connectionTimeoutMs: 500, requestTimeoutMs: 1_000 } as const;

/**
 * Timeouts for a local endpoint (dynalite). smithy starts both clocks when a request is queued,
 * not when it gets a socket, and dynalite shares one CPU with the code under test, so a burst of
 * concurrent calls (the contract's 200 parallel events, a local load test) can wait well past the
 * AWS values: a false 503 there would distort every local measurement (and fail the contract test
 * on a busy 2-core CI machine, as 2 s once did).
 */
export const LOCAL_TIMEOUTS = { connectionTimeoutMs: 5_000, requestTimeoutMs: 10_000 } as const;

/**
 * One attempt: the SDK must not resend a write whose outcome it does not know. `ADD #count :1`
 * that timed out may have been applied, and a resend would count it twice. A failure becomes a
 * 503, Slack retries, and the core's pending marker makes that retry recount exactly.
 */
export const DEFAULT_MAX_ATTEMPTS = 1;
export const DEFAULT_MAX_SOCKETS = 50;

/**
 * A DocumentClient tuned to fail fast. The SDK defaults (no timeouts, 3 attempts with backoff)
 * let a dead or black-holed store hold a request until the Lambda or Slack's deadline kills it;
 * with these, an outage becomes `StoreUnavailableError` (see `toStoreError`) quickly. Create it
 * once per process (module scope in a Lambda, so warm invocations reuse its sockets).
 */
export function createDocumentClient(options: DocumentClientOptions): DynamoDBDocumentClient {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? DEFAULT_MAX_SOCKETS };
  const timeouts = options.endpoint === undefined ? AWS_TIMEOUTS : LOCAL_TIMEOUTS;
  const client = new DynamoDBClient({
    region: options.region,
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    ...(options.endpoint === undefined
      ? {}
      : {
          endpoint: options.endpoint,
          // dynalite accepts any signature: fixed credentials mean no AWS account or profile is
          // needed locally, and the default provider chain is never consulted.
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }),
    requestHandler: new NodeHttpHandler({
      connectionTimeout: options.connectionTimeoutMs ?? timeouts.connectionTimeoutMs,
      requestTimeout: options.requestTimeoutMs ?? timeouts.requestTimeoutMs,
      // Without this, smithy only logs a warning when requestTimeout passes and keeps waiting.
      throwOnRequestTimeout: true,
      httpAgent: new Agent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
    }),
  });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/**
 * Closes the client's sockets. `DynamoDBDocumentClient.destroy()` is a no-op in lib-dynamodb, so
 * this destroys the shared request handler instead (tests and CLIs call it before exiting).
 */
export function destroyDocumentClient(client: DynamoDBDocumentClient): void {
  client.config.requestHandler.destroy?.();
}

/** Error names (SDK v3 sets `name` to the service's error code) that mean "try again later". */
const UNAVAILABLE_ERROR_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalFailure',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'ThrottlingException',
  'Throttling',
]);

/** Node socket error codes: the store could not be reached at all. */
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

interface SdkErrorShape {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
}

function shape(err: unknown): SdkErrorShape {
  return typeof err === 'object' && err !== null ? (err as SdkErrorShape) : {};
}

const WRAPPED = /^AWS SDK error wrapper for .*\b(E[A-Z_]+)\b/;

/**
 * The socket error code. The SDK's retry middleware replaces any error that fails
 * `instanceof Error` with `new Error('AWS SDK error wrapper for ' + err)`, which drops `code`.
 * That happens to Node's socket errors whenever the SDK runs in another realm than Node's core
 * (Jest's vm modules, for one), so the code is recovered from the message too.
 */
function networkCode({ code, message }: SdkErrorShape): string | undefined {
  if (typeof code === 'string') return code;
  if (typeof message !== 'string') return undefined;
  // A kept-alive socket closed by the server surfaces as Node's "socket hang up" (ECONNRESET),
  // whose wrapped message carries no code.
  if (/^AWS SDK error wrapper for .*socket hang up/.test(message)) return 'ECONNRESET';
  return WRAPPED.exec(message)?.[1];
}

/** The single-item condition did not hold: a compare-and-set result, not a failure. */
export function isConditionalCheckFailed(err: unknown): boolean {
  return shape(err).name === 'ConditionalCheckFailedException';
}

/**
 * True when the error means DynamoDB could not be reached or asked us to back off: timeouts,
 * refused or reset sockets, throttling and 5xx. Those become `StoreUnavailableError` (503, and
 * Slack retries). Anything else (validation, missing table, access denied) is a bug or a broken
 * deployment and must surface as itself.
 */
export function isStoreUnavailable(err: unknown): boolean {
  const details = shape(err);
  const { name, $metadata } = details;
  if (typeof name === 'string' && UNAVAILABLE_ERROR_NAMES.has(name)) return true;
  const code = networkCode(details);
  if (code !== undefined && NETWORK_ERROR_CODES.has(code)) return true;
  const status = $metadata?.httpStatusCode;
  return typeof status === 'number' && status >= 500;
}

/**
 * Maps an SDK error to what the ports promise: `StoreUnavailableError` (with the SDK error as
 * `cause`) for outages, the error itself otherwise.
 */
export function toStoreError(err: unknown, operation: string): unknown {
  if (err instanceof StoreUnavailableError) return err;
  if (isStoreUnavailable(err)) {
    const details = shape(err);
    const reason =
      networkCode(details) ?? (typeof details.name === 'string' ? details.name : 'error');
    return new StoreUnavailableError(`DynamoDB ${operation} failed: ${reason}`, { cause: err });
  }
  return err;
}
