/**
 * The serverless deployment's configuration: every environment variable a handler, the reconcile
 * command or the local stack reads, validated here and nowhere else. Each handler loads only the
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

// `ConfigError`, the rules and the key reading are the core's (`config/env-schema.ts`), so both
// deployments report configuration problems alike; only reading `process.env` happens here.
export { ConfigError, type Env };

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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
    defaultText: '250',
    schema: integer(1, 1000),
    fallback: () => 250,
  }),
  FANOUT_CONCURRENCY: spec({
    description:
      'PostToConnection calls in flight at once per fan-out (also the HTTP sockets kept open).',
    defaultText: '64',
    schema: integer(1, 1000),
    fallback: () => 64,
  }),
  FANOUT_SEND_TIMEOUT_MS: spec({
    description:
      'Longest time one PostToConnection may take; a slower one counts as failed, not gone.',
    defaultText: '2000',
    schema: integer(50, 60_000),
    fallback: () => 2000,
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

/** What `POST /slack/events` needs beyond the store. */
export interface SlackConfig {
  readonly signingSecret: string;
  readonly topicArn: string;
  readonly snsEndpoint: string | undefined;
  readonly snsRequestTimeoutMs: number;
}

export function loadSlackConfig(env: Env = process.env): SlackConfig {
  const v = readEnvKeys(CONFIG_KEYS, env, [
    'SLACK_SIGNING_SECRET',
    'COUNTS_TOPIC_ARN',
    'SNS_ENDPOINT',
    'SNS_REQUEST_TIMEOUT_MS',
  ]);
  return {
    signingSecret: v.SLACK_SIGNING_SECRET!,
    topicArn: v.COUNTS_TOPIC_ARN!,
    snsEndpoint: v.SNS_ENDPOINT,
    snsRequestTimeoutMs: v.SNS_REQUEST_TIMEOUT_MS!,
  };
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

/** The fan-out function cannot derive the endpoint from an SNS event: it must be configured. */
export function requireManagementEndpoint(config: SenderConfig): string {
  if (config.managementEndpoint === undefined) {
    throw new ConfigError([
      `WS_MANAGEMENT_ENDPOINT: is required (${CONFIG_KEYS.WS_MANAGEMENT_ENDPOINT.description})`,
    ]);
  }
  return config.managementEndpoint;
}

// ---------------------------------------------------------------------------------------------
// The local stack (`npm run serverless`): ports and where dynalite keeps its data.

/** Documented in the README and docs/deploy.md; only ever a fallback for local runs. */
export const DEV_SIGNING_SECRET = 'reactometer-dev-signing-secret';

const port = (fallback: number, what: string) =>
  spec({
    description: what,
    defaultText: String(fallback),
    schema: integer(1, 65535),
    fallback: () => fallback,
  });

/** Every variable the local stack launcher reads. */
export const LOCAL_STACK_KEYS = {
  OFFLINE_HOST: spec({
    description: 'Interface every local server binds (HTTP, WebSocket, Lambda, SNS, dynalite).',
    defaultText: '127.0.0.1',
    schema: nonEmpty('a host name or IP address'),
    fallback: () => '127.0.0.1',
  }),
  OFFLINE_HTTP_PORT: port(4000, 'serverless-offline HTTP API port.'),
  OFFLINE_WS_PORT: port(
    4001,
    'serverless-offline WebSocket port (also its @connections management API).',
  ),
  OFFLINE_SNS_PORT: port(4002, 'serverless-offline-sns port.'),
  OFFLINE_LAMBDA_PORT: port(4003, 'serverless-offline Lambda invoke API port.'),
  DYNALITE_PORT: port(4567, 'dynalite (local DynamoDB) port.'),
  DYNALITE_DATA_DIR: spec<string>({
    description: 'Directory dynalite keeps its tables in; `memory` keeps them in memory only.',
    defaultText: '.data/dynalite-serverless',
    schema: nonEmpty('a directory or `memory`'),
    optional: true,
  }),
  OFFLINE_STAGE: spec({
    description: 'Stage name of the local stack (table and topic names contain it).',
    defaultText: 'local',
    schema: z
      .string()
      .trim()
      .regex(/^[a-z][a-z0-9-]{0,15}$/, 'must be lowercase letters, digits and dashes (max 16)'),
    fallback: () => 'local',
  }),
  SLACK_SIGNING_SECRET: spec<string>({
    description: `Signing secret the local stack verifies with; unset: the dev secret "${DEV_SIGNING_SECRET}".`,
    defaultText: DEV_SIGNING_SECRET,
    schema: nonEmpty('the Slack signing secret (non-empty)'),
    optional: true,
  }),
  OFFLINE_IN_PROCESS: spec({
    description:
      "true: handlers share serverless-offline's process (light); false: one worker thread per concurrent invocation (a cold start each, heavy under bursts).",
    defaultText: 'true',
    schema: z
      .string()
      .trim()
      .pipe(z.enum(['true', 'false'], { error: 'must be true or false' }))
      .transform((v) => v === 'true'),
    fallback: () => true,
  }),
  LOG_LEVEL: CONFIG_KEYS.LOG_LEVEL,
} as const;

export interface LocalStackConfig {
  readonly host: string;
  readonly ports: {
    readonly http: number;
    readonly ws: number;
    readonly sns: number;
    readonly lambda: number;
    readonly dynalite: number;
  };
  /** Undefined: in memory. */
  readonly dynaliteDataDir: string | undefined;
  readonly stage: string;
  /** Undefined: unset, the launcher falls back to `DEV_SIGNING_SECRET` and says so. */
  readonly signingSecret: string | undefined;
  readonly inProcess: boolean;
  readonly logLevel: LogLevel;
}

/** The launcher's configuration; `defaultDataDir` is used when DYNALITE_DATA_DIR is unset. */
export function loadLocalStackConfig(env: Env, defaultDataDir: string): LocalStackConfig {
  const v = readEnvKeys(
    LOCAL_STACK_KEYS,
    env,
    Object.keys(LOCAL_STACK_KEYS) as (keyof typeof LOCAL_STACK_KEYS)[],
  );
  const dataDir = v.DYNALITE_DATA_DIR ?? defaultDataDir;
  return {
    host: v.OFFLINE_HOST!,
    ports: {
      http: v.OFFLINE_HTTP_PORT!,
      ws: v.OFFLINE_WS_PORT!,
      sns: v.OFFLINE_SNS_PORT!,
      lambda: v.OFFLINE_LAMBDA_PORT!,
      dynalite: v.DYNALITE_PORT!,
    },
    dynaliteDataDir: dataDir === 'memory' ? undefined : dataDir,
    stage: v.OFFLINE_STAGE!,
    signingSecret: v.SLACK_SIGNING_SECRET,
    inProcess: v.OFFLINE_IN_PROCESS!,
    logLevel: v.LOG_LEVEL!,
  };
}

/** A Markdown table of every variable, its default and its description (for docs/deploy.md). */
export function describeConfig(): string {
  return describeEnvKeys(CONFIG_KEYS, { padded: false });
}
