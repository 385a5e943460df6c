/**
 * The serverless deployment's configuration: every environment variable a Lambda handler or the
 * reconcile command reads, validated here and nowhere else (the local stack's launcher has its
 * own variables, in the toolkit). Each handler loads only the
 * groups it needs at cold start (module scope), so a bad deploy fails its first invocation with a
 * message naming the variable, e.g. `FANOUT_CONCURRENCY: must be an integer 1-1000`.
 */
import { z } from 'zod';
import {
  ConfigError,
  describeEnvKeys,
  integer,
  nonEmpty,
  oneOf,
  readEnvKeys,
  spec,
  type Env,
} from '@reactometer/shared';
import {
  VIEWER_ACCESS_KEYS,
  VIEWER_ACCESS_KEY_NAMES,
  toViewerAccess,
  type ViewerAccessSettings,
} from '@reactometer/shared/auth';

// `ConfigError`, the rules and the key reading are the core's (`config/env-schema.ts`), so both
// deployments report configuration problems alike; only reading `process.env` happens here.
export { ConfigError, type Env };

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Connection records per Scan page of a fan-out (the cost model prices its reads with it). */
export const DEFAULT_CONNECTIONS_PAGE_SIZE = 250;

/**
 * The fan-out design's defaults, exported so that the cost model and the AWS model price and time
 * exactly what deploys (each is also the fallback of its variable below).
 */
export const FANOUT_DEFAULTS = {
  windowMs: 1000,
  leaseMs: 15_000,
  concurrency: 64,
  sendTimeoutMs: 2000,
  throttleSharePercent: 95,
  apiThrottleRate: 10_000,
  apiThrottleBurst: 5_000,
  shardThreshold: 1000,
  connectionsPerWorker: 1000,
  maxWorkers: 32,
} as const;

export const FANOUT_SENDERS = ['lean', 'sdk'] as const;
export type FanOutSenderKind = (typeof FANOUT_SENDERS)[number];

/** API Gateway closes every WebSocket after 2 hours; a connection record may outlive it a little. */
export const API_GATEWAY_MAX_CONNECTION_SECONDS = 2 * 60 * 60;

const httpUrl: z.ZodType<string, string> = z
  .string()
  .trim()
  .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'must be an http:// or https:// URL')
  .transform((url) => url.replace(/\/+$/, ''));

const topicArn: z.ZodType<string, string> = z
  .string()
  .trim()
  .regex(
    /^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]{1,256}$/,
    'must be an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)',
  );

const region: z.ZodType<string, string> = z
  .string()
  .trim()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as us-east-1');

/** Every variable the Lambda handlers and the reconcile command read, with a one-line description. */
export const CONFIG_KEYS = {
  AWS_REGION: spec({
    description:
      'Region of the tables, topic and API (Lambda sets it; the local stack sets it too).',
    defaultText: '(set by Lambda)',
    schema: region,
  }),
  STATES_TABLE: spec({
    description: 'DynamoDB table of reaction states (hash key `key`).',
    defaultText: '(required)',
    schema: nonEmpty('a table name'),
  }),
  COUNTS_TABLE: spec({
    description: 'DynamoDB table of emoji counts (hash key `emoji`).',
    defaultText: '(required)',
    schema: nonEmpty('a table name'),
  }),
  CONNECTIONS_TABLE: spec({
    description:
      'DynamoDB table of open WebSocket connections (hash key `connectionId`, TTL `expiresAt`).',
    defaultText: '(required)',
    schema: nonEmpty('a table name'),
  }),
  COUNTS_TOPIC_ARN: spec({
    description: 'SNS topic that carries count changes to the fan-out function.',
    defaultText: '(required)',
    schema: topicArn,
  }),
  SLACK_SIGNING_SECRET: spec({
    description: "The Slack app's signing secret; requests not signed with it get 401.",
    defaultText: '(required)',
    schema: nonEmpty('the Slack signing secret (non-empty)'),
  }),
  WS_MANAGEMENT_ENDPOINT: spec<string>({
    description:
      'API Gateway management endpoint of the WebSocket API (`https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`); the WebSocket function derives it from its event when unset.',
    defaultText: '(from the event)',
    schema: httpUrl,
    optional: true,
  }),
  DYNAMODB_ENDPOINT: spec<string>({
    description: 'DynamoDB endpoint override (dynalite locally); unset: the regional AWS endpoint.',
    defaultText: '(AWS)',
    schema: httpUrl,
    optional: true,
  }),
  SNS_ENDPOINT: spec<string>({
    description:
      'SNS endpoint override (serverless-offline-sns locally); unset: the regional AWS endpoint.',
    defaultText: '(AWS)',
    schema: httpUrl,
    optional: true,
  }),
  INBOX_QUEUE_URL: spec({
    description:
      'URL of the inbox SQS FIFO queue: Slack events are stored there before they are counted.',
    defaultText: '(required by slackEvents, counter and reactions)',
    schema: httpUrl,
  }),
  SQS_ENDPOINT: spec<string>({
    description: 'SQS endpoint override (ElasticMQ locally); unset: the regional AWS endpoint.',
    defaultText: '(AWS)',
    schema: httpUrl,
    optional: true,
  }),
  SQS_REQUEST_TIMEOUT_MS: spec({
    description:
      'Longest wait for SQS to accept a Slack event before the edge answers 503 (Slack waits 3 s, then retries).',
    defaultText: '1000',
    schema: integer(50, 60_000),
    fallback: () => 1000,
  }),
  INBOX_MAX_PENDING: spec({
    description:
      'Messages waiting in the inbox queue beyond which Slack gets 503 overloaded with Retry-After at once.',
    defaultText: '100000',
    schema: integer(1, 100_000_000),
    fallback: () => 100_000,
  }),
  COUNTS_CACHE_MS: spec({
    description:
      'How long a warm container serves GET /reactions and getReactions from one read of the counts (0: read every time).',
    defaultText: '1000',
    schema: integer(0, 600_000),
    fallback: () => 1000,
  }),
  DYNAMODB_REQUEST_TIMEOUT_MS: spec({
    description:
      'Longest time one DynamoDB attempt may take before the store counts as unavailable (503).',
    defaultText: '1000',
    schema: integer(50, 30_000),
    fallback: () => 1000,
  }),
  SNS_REQUEST_TIMEOUT_MS: spec({
    description:
      'Longest time one SNS Publish may take; a slow publish delays the answer to Slack.',
    defaultText: '1000',
    schema: integer(50, 30_000),
    fallback: () => 1000,
  }),
  PENDING_LEASE_MS: spec({
    description:
      'How long an unfinished count change belongs to its attempt before another may finish it.',
    defaultText: '10000',
    schema: integer(1, 3_600_000),
    fallback: () => 10_000,
  }),
  CONNECTION_TTL_SECONDS: spec({
    description:
      "Lifetime of a connection record after connect: API Gateway's 2-hour limit plus a margin.",
    defaultText: String(API_GATEWAY_MAX_CONNECTION_SECONDS + 300),
    schema: integer(60, 7 * 24 * 3600),
    fallback: () => API_GATEWAY_MAX_CONNECTION_SECONDS + 300,
  }),
  CONNECTIONS_PAGE_SIZE: spec({
    description: 'Connection records read per DynamoDB Scan page during a fan-out.',
    defaultText: String(DEFAULT_CONNECTIONS_PAGE_SIZE),
    schema: integer(1, 1000),
    fallback: () => DEFAULT_CONNECTIONS_PAGE_SIZE,
  }),
  FANOUT_CONCURRENCY: spec({
    description:
      'PostToConnection calls in flight at once per fan-out worker (also the HTTP sockets kept open).',
    defaultText: String(FANOUT_DEFAULTS.concurrency),
    schema: integer(1, 1000),
    fallback: () => FANOUT_DEFAULTS.concurrency,
  }),
  FANOUT_SEND_TIMEOUT_MS: spec({
    description:
      'Longest time one PostToConnection may take, enforced by the sender itself; a slower one counts as failed, not gone, and is not resent.',
    defaultText: String(FANOUT_DEFAULTS.sendTimeoutMs),
    schema: integer(50, 60_000),
    fallback: () => FANOUT_DEFAULTS.sendTimeoutMs,
  }),
  FANOUT_SENDER: spec<FanOutSenderKind>({
    description:
      '`lean`: PostToConnection signed with aws4 over a keep-alive undici pool (the fan-out default); `sdk`: the AWS SDK v3 client.',
    defaultText: 'lean',
    schema: oneOf(FANOUT_SENDERS, (s) => s.toLowerCase()),
    fallback: () => 'lean',
  }),
  FANOUT_WINDOW_MS: spec({
    description:
      'Coalescing window: quiet time after a fan-out ends before the next may start, so a dashboard gets at most one update per window; an isolated change still goes out at once. 0 turns coalescing off (every change fans out on its own).',
    defaultText: String(FANOUT_DEFAULTS.windowMs),
    schema: integer(0, 60_000),
    fallback: () => FANOUT_DEFAULTS.windowMs,
  }),
  FANOUT_LEASE_MS: spec({
    description:
      "Life of the fan-out gate's lease without renewal (renewed every third of it): the longest a crashed fan-out can hold up the next one.",
    defaultText: String(FANOUT_DEFAULTS.leaseMs),
    schema: integer(1000, 300_000),
    fallback: () => FANOUT_DEFAULTS.leaseMs,
  }),
  FANOUT_GATE_TABLE: spec({
    description:
      'DynamoDB table of the fan-out gate (hash key `shard`): the dirty set and the lease of coalescing.',
    defaultText: '(required by the fan-out)',
    schema: nonEmpty('a table name'),
  }),
  FANOUT_THROTTLE_SHARE_PERCENT: spec({
    description:
      "Share of the account's API Gateway throttle (rate and burst) all fan-out workers together may use; the rest stays for HTTP and WebSocket requests.",
    defaultText: String(FANOUT_DEFAULTS.throttleSharePercent),
    schema: integer(1, 100),
    fallback: () => FANOUT_DEFAULTS.throttleSharePercent,
  }),
  API_THROTTLE_RATE: spec({
    description:
      "The account's API Gateway throttle in this region, requests/s (quota page: 10,000, shared by every HTTP, REST and WebSocket API and @connections call); set it after a quota increase.",
    defaultText: String(FANOUT_DEFAULTS.apiThrottleRate),
    schema: integer(1, 10_000_000),
    fallback: () => FANOUT_DEFAULTS.apiThrottleRate,
  }),
  API_THROTTLE_BURST: spec({
    description: "The account's API Gateway token-bucket capacity (quota page: 5,000 requests).",
    defaultText: String(FANOUT_DEFAULTS.apiThrottleBurst),
    schema: integer(1, 10_000_000),
    fallback: () => FANOUT_DEFAULTS.apiThrottleBurst,
  }),
  FANOUT_SHARD_THRESHOLD: spec({
    description:
      'Connections (as the previous fan-out counted them) from which a fan-out is split over parallel workers; below it the fan-out function delivers alone.',
    defaultText: String(FANOUT_DEFAULTS.shardThreshold),
    schema: integer(1, 100_000_000),
    fallback: () => FANOUT_DEFAULTS.shardThreshold,
  }),
  FANOUT_CONNECTIONS_PER_WORKER: spec({
    description:
      'Above the threshold: one worker (a DynamoDB Scan segment) per this many connections.',
    defaultText: String(FANOUT_DEFAULTS.connectionsPerWorker),
    schema: integer(1, 100_000_000),
    fallback: () => FANOUT_DEFAULTS.connectionsPerWorker,
  }),
  FANOUT_MAX_WORKERS: spec({
    description: 'Most parallel workers of one fan-out (Lambda concurrency it may take).',
    defaultText: String(FANOUT_DEFAULTS.maxWorkers),
    schema: integer(1, 1000),
    fallback: () => FANOUT_DEFAULTS.maxWorkers,
  }),
  FANOUT_WORKERS: spec<number>({
    description:
      'A fixed number of workers per fan-out, instead of deriving it from the connections.',
    defaultText: '(derived)',
    schema: integer(1, 1000),
    optional: true,
  }),
  FANOUT_WORKER_FUNCTION: spec({
    description: 'Name of the Lambda function that delivers one segment of a sharded fan-out.',
    defaultText: '(required by the fan-out)',
    schema: nonEmpty('a function name'),
  }),
  LAMBDA_ENDPOINT: spec<string>({
    description:
      "Lambda API endpoint override (serverless-offline's Lambda port locally); unset: the regional AWS endpoint.",
    defaultText: '(AWS)',
    schema: httpUrl,
    optional: true,
  }),
  FANOUT_MAX_ATTEMPTS: spec({
    description: 'Attempts per connection when API Gateway throttles (429), the first included.',
    defaultText: '4',
    schema: integer(1, 20),
    fallback: () => 4,
  }),
  FANOUT_BASE_BACKOFF_MS: spec({
    description: 'First backoff after a throttle; doubles per attempt, with full jitter.',
    defaultText: '50',
    schema: integer(1, 10_000),
    fallback: () => 50,
  }),
  ...VIEWER_ACCESS_KEYS,
  IS_OFFLINE: spec<boolean>({
    description:
      'Set by serverless-offline, never on AWS: the WebSocket authorizer then answers a refusal the way the emulator reads it (the string `Unauthorized`) instead of throwing as Lambda expects.',
    defaultText: '(unset on AWS)',
    schema: z
      .string()
      .trim()
      .transform((v) => v.toLowerCase() === 'true'),
    optional: true,
  }),
  LOG_LEVEL: spec<LogLevel>({
    description: `Powertools log level (${LOG_LEVELS.join(', ')}).`,
    defaultText: 'INFO',
    schema: oneOf(LOG_LEVELS, (s) => s.toUpperCase()),
    fallback: () => 'INFO',
  }),
  SERVICE_NAME: spec({
    description: 'Service name on every log line and metric (dimension `service`).',
    defaultText: 'reactometer',
    schema: nonEmpty('a service name'),
    fallback: () => 'reactometer',
  }),
  METRICS_NAMESPACE: spec({
    description: 'CloudWatch namespace of the embedded metrics.',
    defaultText: 'Reactometer',
    schema: nonEmpty('a CloudWatch namespace'),
    fallback: () => 'Reactometer',
  }),
} as const;

export type ConfigKey = keyof typeof CONFIG_KEYS;

// The non-null assertions below are safe: `readEnvKeys` throws unless every key without
// `optional` has a value.

/** What every handler needs: where AWS is and how to log. */
export interface RuntimeConfig {
  readonly region: string;
  readonly dynamodbEndpoint: string | undefined;
  readonly dynamodbRequestTimeoutMs: number;
  readonly logLevel: LogLevel;
  readonly serviceName: string;
  readonly metricsNamespace: string;
}

export function loadRuntimeConfig(env: Env = process.env): RuntimeConfig {
  const v = readEnvKeys(CONFIG_KEYS, env, [
    'AWS_REGION',
    'DYNAMODB_ENDPOINT',
    'DYNAMODB_REQUEST_TIMEOUT_MS',
    'LOG_LEVEL',
    'SERVICE_NAME',
    'METRICS_NAMESPACE',
  ]);
  return {
    region: v.AWS_REGION!,
    dynamodbEndpoint: v.DYNAMODB_ENDPOINT,
    dynamodbRequestTimeoutMs: v.DYNAMODB_REQUEST_TIMEOUT_MS!,
    logLevel: v.LOG_LEVEL!,
    serviceName: v.SERVICE_NAME!,
    metricsNamespace: v.METRICS_NAMESPACE!,
  };
}

/** The reaction store's tables and the counting model's lease. */
export interface StoreConfig {
  readonly statesTable: string;
  readonly countsTable: string;
  readonly pendingLeaseMs: number;
}

export function loadStoreConfig(env: Env = process.env): StoreConfig {
  const v = readEnvKeys(CONFIG_KEYS, env, ['STATES_TABLE', 'COUNTS_TABLE', 'PENDING_LEASE_MS']);
  return {
    statesTable: v.STATES_TABLE!,
    countsTable: v.COUNTS_TABLE!,
    pendingLeaseMs: v.PENDING_LEASE_MS!,
  };
}

/** What `POST /slack/events` needs besides the inbox: the secret it verifies with. */
export interface SlackConfig {
  readonly signingSecret: string;
}

export function loadSlackConfig(env: Env = process.env): SlackConfig {
  const v = readEnvKeys(CONFIG_KEYS, env, ['SLACK_SIGNING_SECRET']);
  return { signingSecret: v.SLACK_SIGNING_SECRET! };
}

/** The inbox queue, for the edge that appends to it and the routes that report its depth. */
export interface InboxConfig {
  readonly queueUrl: string;
  readonly sqsEndpoint: string | undefined;
  readonly sqsRequestTimeoutMs: number;
  readonly maxPending: number;
}

export function loadInboxConfig(env: Env = process.env): InboxConfig {
  const v = readEnvKeys(CONFIG_KEYS, env, [
    'INBOX_QUEUE_URL',
    'SQS_ENDPOINT',
    'SQS_REQUEST_TIMEOUT_MS',
    'INBOX_MAX_PENDING',
  ]);
  return {
    queueUrl: v.INBOX_QUEUE_URL!,
    sqsEndpoint: v.SQS_ENDPOINT,
    sqsRequestTimeoutMs: v.SQS_REQUEST_TIMEOUT_MS!,
    maxPending: v.INBOX_MAX_PENDING!,
  };
}

/** Where count changes are published (the counting function). */
export interface PublishConfig {
  readonly topicArn: string;
  readonly snsEndpoint: string | undefined;
  readonly snsRequestTimeoutMs: number;
}

export function loadPublishConfig(env: Env = process.env): PublishConfig {
  const v = readEnvKeys(CONFIG_KEYS, env, [
    'COUNTS_TOPIC_ARN',
    'SNS_ENDPOINT',
    'SNS_REQUEST_TIMEOUT_MS',
  ]);
  return {
    topicArn: v.COUNTS_TOPIC_ARN!,
    snsEndpoint: v.SNS_ENDPOINT,
    snsRequestTimeoutMs: v.SNS_REQUEST_TIMEOUT_MS!,
  };
}

/** How long a warm container serves the counts from one read. */
export function loadCountsCacheMs(env: Env = process.env): number {
  return readEnvKeys(CONFIG_KEYS, env, ['COUNTS_CACHE_MS']).COUNTS_CACHE_MS!;
}

/** The connections table and how long a record lives. */
export interface ConnectionsConfig {
  readonly connectionsTable: string;
  readonly connectionTtlSeconds: number;
  readonly pageSize: number;
}

export function loadConnectionsConfig(env: Env = process.env): ConnectionsConfig {
  const v = readEnvKeys(CONFIG_KEYS, env, [
    'CONNECTIONS_TABLE',
    'CONNECTION_TTL_SECONDS',
    'CONNECTIONS_PAGE_SIZE',
  ]);
  return {
    connectionsTable: v.CONNECTIONS_TABLE!,
    connectionTtlSeconds: v.CONNECTION_TTL_SECONDS!,
    pageSize: v.CONNECTIONS_PAGE_SIZE!,
  };
}

/** How messages reach connections through the API Gateway management API. */
export interface SenderConfig {
  /** Undefined: derive it from the WebSocket event (only the WebSocket function can). */
  readonly managementEndpoint: string | undefined;
  readonly concurrency: number;
  readonly sendTimeoutMs: number;
  readonly maxAttempts: number;
  readonly baseBackoffMs: number;
}

export function loadSenderConfig(env: Env = process.env): SenderConfig {
  const v = readEnvKeys(CONFIG_KEYS, env, [
    'WS_MANAGEMENT_ENDPOINT',
    'FANOUT_CONCURRENCY',
    'FANOUT_SEND_TIMEOUT_MS',
    'FANOUT_MAX_ATTEMPTS',
    'FANOUT_BASE_BACKOFF_MS',
  ]);
  return {
    managementEndpoint: v.WS_MANAGEMENT_ENDPOINT,
    concurrency: v.FANOUT_CONCURRENCY!,
    sendTimeoutMs: v.FANOUT_SEND_TIMEOUT_MS!,
    maxAttempts: v.FANOUT_MAX_ATTEMPTS!,
    baseBackoffMs: v.FANOUT_BASE_BACKOFF_MS!,
  };
}

/** What the fan-out (coordinator and workers) needs beyond the sender: coalescing and sharding. */
export interface FanOutConfig {
  readonly gateTable: string;
  readonly windowMs: number;
  readonly leaseMs: number;
  readonly sender: FanOutSenderKind;
  readonly throttle: {
    readonly accountRatePerSecond: number;
    readonly accountBurst: number;
    /** 0-1. */
    readonly share: number;
  };
  readonly shards: {
    readonly threshold: number;
    readonly connectionsPerWorker: number;
    readonly maxWorkers: number;
    readonly fixedWorkers: number | undefined;
  };
  readonly workerFunction: string;
  readonly lambdaEndpoint: string | undefined;
}

export function loadFanOutConfig(env: Env = process.env): FanOutConfig {
  const v = readEnvKeys(CONFIG_KEYS, env, [
    'FANOUT_GATE_TABLE',
    'FANOUT_WINDOW_MS',
    'FANOUT_LEASE_MS',
    'FANOUT_SENDER',
    'FANOUT_THROTTLE_SHARE_PERCENT',
    'API_THROTTLE_RATE',
    'API_THROTTLE_BURST',
    'FANOUT_SHARD_THRESHOLD',
    'FANOUT_CONNECTIONS_PER_WORKER',
    'FANOUT_MAX_WORKERS',
    'FANOUT_WORKERS',
    'FANOUT_WORKER_FUNCTION',
    'LAMBDA_ENDPOINT',
  ]);
  return {
    gateTable: v.FANOUT_GATE_TABLE!,
    windowMs: v.FANOUT_WINDOW_MS!,
    leaseMs: v.FANOUT_LEASE_MS!,
    sender: v.FANOUT_SENDER!,
    throttle: {
      accountRatePerSecond: v.API_THROTTLE_RATE!,
      accountBurst: v.API_THROTTLE_BURST!,
      share: v.FANOUT_THROTTLE_SHARE_PERCENT! / 100,
    },
    shards: {
      threshold: v.FANOUT_SHARD_THRESHOLD!,
      connectionsPerWorker: v.FANOUT_CONNECTIONS_PER_WORKER!,
      maxWorkers: v.FANOUT_MAX_WORKERS!,
      fixedWorkers: v.FANOUT_WORKERS,
    },
    workerFunction: v.FANOUT_WORKER_FUNCTION!,
    lambdaEndpoint: v.LAMBDA_ENDPOINT,
  };
}

/** Viewer access (the authorizer, `GET /reactions`, Slack sign-in). */
export interface AccessConfig extends ViewerAccessSettings {
  /** Under serverless-offline (see IS_OFFLINE). */
  readonly offline: boolean;
}

export function loadAccessConfig(env: Env = process.env): AccessConfig {
  const v = readEnvKeys(CONFIG_KEYS, env, [...VIEWER_ACCESS_KEY_NAMES, 'IS_OFFLINE']);
  return { ...toViewerAccess(v), offline: v.IS_OFFLINE === true };
}

/** The fan-out function cannot derive the endpoint from an SNS event: it must be configured. */
export function requireManagementEndpoint(config: SenderConfig): string {
  if (config.managementEndpoint === undefined) {
    throw new ConfigError([
      `WS_MANAGEMENT_ENDPOINT: is required (${CONFIG_KEYS.WS_MANAGEMENT_ENDPOINT.description})`,
    ]);
  }
  return config.managementEndpoint;
}

/** A Markdown table of every variable, its default and its description (for docs/deploy.md). */
export function describeConfig(): string {
  return describeEnvKeys(CONFIG_KEYS, { padded: false });
}
