/**
 * The droplet's configuration: every environment variable it reads, validated here and nowhere
 * else. Errors name the variable, so a bad deploy fails at start with a message like
 * `PORT: must be an integer 0-65535` instead of misbehaving later.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import {
  ConfigError,
  describeEnvKeys,
  FALLBACK_MAX_CONNECTIONS,
  maxConnectionsFromLimit,
  parseOpenFileSoftLimit,
  integer,
  MAX_CLIENT_FRAME_BYTES,
  nonEmpty,
  oneOf,
  readEnvKeys,
  spec,
  type Env,
  type EnvValues,
} from '@reactometer/shared';
import {
  VIEWER_ACCESS_KEYS,
  toViewerAccess,
  type ViewerAccessSettings,
} from '@reactometer/shared/auth';

// The validation rules, error class and table rendering are the core's `config/env-schema.ts`,
// shared with the serverless deployment; reading the environment stays here.
export { ConfigError, type Env };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

function defaultMaxConnections(): number {
  try {
    return maxConnectionsFromLimit(
      parseOpenFileSoftLimit(readFileSync('/proc/self/limits', 'utf8')),
    );
  } catch {
    return FALLBACK_MAX_CONNECTIONS;
  }
}

/** A port, or `off` (as `null`) for a listener that should not run. */
const portOrOff: z.ZodType<number | null, string> = z
  .string()
  .trim()
  .regex(/^(off|\d+)$/i, 'must be an integer 0-65535 or off')
  .transform((v) => (v.toLowerCase() === 'off' ? null : Number(v)))
  .refine((n) => n === null || n <= 65535, 'must be an integer 0-65535 or off');

/**
 * Express's `trust proxy`: which peers may tell the client's address in X-Forwarded-For. Off
 * unless set, so that a droplet reached directly cannot be lied to; behind nginx on the same host
 * it is `loopback`.
 */
const TRUST_PROXY_NAMES = ['loopback', 'uniquelocal', 'linklocal'];
const TRUST_PROXY_MESSAGE =
  'must be off, loopback, uniquelocal, linklocal, a hop count, or comma-separated addresses/CIDRs';

/** One entry of a TRUST_PROXY list: a name Express knows, or an IP address with an optional prefix. */
function trustProxyEntry(entry: string): boolean {
  if (TRUST_PROXY_NAMES.includes(entry.toLowerCase())) return true;
  const [address = '', prefix, extra] = entry.split('/');
  if (extra !== undefined || isIP(address) === 0) return false;
  return prefix === undefined || /^\d{1,3}$/.test(prefix);
}

const trustProxy: z.ZodType<string | false, string> = z
  .string()
  .trim()
  .refine(
    (v) =>
      /^off$/i.test(v) ||
      /^\d+$/.test(v) ||
      v.split(',').every((entry) => trustProxyEntry(entry.trim())),
    TRUST_PROXY_MESSAGE,
  )
  .transform((v) => (v.toLowerCase() === 'off' ? false : v));

const redisUrl: z.ZodType<string, string> = z
  .string()
  .trim()
  .regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL');

export const STORE_LOCKS = ['off', 'redis'] as const;
export type StoreLock = (typeof STORE_LOCKS)[number];

const mongoUri: z.ZodType<string, string> = z
  .string()
  .trim()
  .regex(/^mongodb(\+srv)?:\/\/\S+$/, 'must be a mongodb:// or mongodb+srv:// connection string');

/** Every variable the droplet reads, with a one-line description (the README table comes from here). */
export const CONFIG_KEYS = {
  PORT: spec({
    description: 'TCP port for HTTP and WebSocket (0 picks a free one).',
    defaultText: '3000',
    schema: integer(0, 65535),
    fallback: () => 3000,
  }),
  HOST: spec({
    description: 'Interface to bind.',
    defaultText: '0.0.0.0',
    schema: nonEmpty('a host name or IP address'),
    fallback: () => '0.0.0.0',
  }),
  MONGODB_URI: spec<string>({
    description:
      'MongoDB connection string; required by `main.ts` (the dev launcher starts FerretDB when unset).',
    defaultText: '(required)',
    schema: mongoUri,
    // Unset yields `undefined`; the commands that need it call `requireMongoUri`.
    optional: true,
  }),
  MONGODB_DB: spec({
    description: 'Database name.',
    defaultText: 'reactometer',
    schema: nonEmpty('a database name'),
    fallback: () => 'reactometer',
  }),
  SLACK_SIGNING_SECRET: spec({
    description: "The Slack app's signing secret; requests not signed with it get 401.",
    defaultText: '(required)',
    schema: nonEmpty('the Slack signing secret (non-empty)'),
  }),
  WS_MAX_CONNECTIONS: spec({
    description:
      'Open WebSockets beyond which upgrades get 503, so a full droplet still answers Slack and health checks.',
    defaultText:
      'soft open-file limit minus max(10%, 2000) (half of a limit under 4000); 10000 if unreadable',
    schema: integer(1, 10_000_000),
    fallback: defaultMaxConnections,
  }),
  WS_MAX_CONNECTIONS_PER_ADDRESS: spec({
    description:
      'Open WebSockets one client address may hold; past it upgrades get 429 (the address is the peer, or X-Forwarded-For from a TRUST_PROXY peer). Raise it when many dashboards share one NAT address.',
    defaultText: '100',
    schema: integer(1, 10_000_000),
    fallback: () => 100,
  }),
  WS_MAX_QUEUED_REQUESTS: spec({
    description:
      'Requests (getReactions, ping) one socket may have waiting for an answer; one more closes it with 1008, so a flooding client costs a bounded amount of memory and database reads.',
    defaultText: '16',
    schema: integer(1, 10_000),
    fallback: () => 16,
  }),
  HTTP_HEADERS_TIMEOUT_MS: spec({
    description:
      'Time a client has to send its request headers; a slower one gets 408 (slowloris).',
    defaultText: '10000',
    schema: integer(1000, 600_000),
    fallback: () => 10_000,
  }),
  HTTP_REQUEST_TIMEOUT_MS: spec({
    description:
      'Time a client has to send its whole request, body included; a slower one gets 408. Slack gives up after 3 s.',
    defaultText: '15000',
    schema: integer(1000, 600_000),
    fallback: () => 15_000,
  }),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: spec({
    description:
      "How long an idle keep-alive connection is kept open; above nginx's upstream keep-alive would be wasted, below it costs handshakes.",
    defaultText: '65000',
    schema: integer(1000, 600_000),
    fallback: () => 65_000,
  }),
  WS_MAX_PAYLOAD_BYTES: spec({
    description: 'Largest client frame; bigger ones close the socket with 1009.',
    defaultText: String(MAX_CLIENT_FRAME_BYTES),
    schema: integer(1, 1024 * 1024),
    fallback: () => MAX_CLIENT_FRAME_BYTES,
  }),
  WS_MAX_BUFFERED_BYTES: spec({
    description:
      'Unsent bytes a slow client may queue before it is dropped (it reconnects and resyncs).',
    defaultText: String(1024 * 1024),
    schema: integer(1, 1024 * 1024 * 1024),
    fallback: () => 1024 * 1024,
  }),
  WS_HEARTBEAT_MS: spec({
    description:
      'Interval of protocol pings; a peer that has not ponged by the next one is dropped.',
    defaultText: '30000',
    schema: integer(10, 3_600_000),
    fallback: () => 30_000,
  }),
  BROADCAST_WINDOW_MS: spec({
    description:
      'Coalescing window: a dashboard gets at most one update per window with the latest count of every emoji changed; an isolated change still goes out at once (0: every change on its own). The same default as serverless FANOUT_WINDOW_MS, so both deployments do the same work.',
    defaultText: '1000',
    schema: integer(0, 60_000),
    fallback: () => 1000,
  }),
  METRICS_PORT: spec<number | null>({
    description:
      'Port of the Prometheus metrics listener (GET /metrics), apart from the public one; 0 picks a free one, off disables it.',
    defaultText: '9464',
    schema: portOrOff,
    fallback: () => 9464,
  }),
  METRICS_HOST: spec({
    description:
      'Interface of the metrics listener; loopback only unless a scraper elsewhere needs it.',
    defaultText: '127.0.0.1',
    schema: nonEmpty('a host name or IP address'),
    fallback: () => '127.0.0.1',
  }),
  TRUST_PROXY: spec<string | false>({
    description:
      'Peers trusted to state the client address in X-Forwarded-For (Express `trust proxy`): off, loopback (nginx on the same host), or addresses.',
    defaultText: 'off',
    schema: trustProxy,
    fallback: () => false,
  }),
  PENDING_LEASE_MS: spec({
    description:
      'How long an unfinished count change belongs to its attempt before another may finish it.',
    defaultText: '10000',
    schema: integer(1, 3_600_000),
    fallback: () => 10_000,
  }),
  INBOX_DIR: spec({
    description:
      'Folder of the durable inbox journal (Slack events stored before they are counted); one droplet process per folder.',
    defaultText: '.data/inbox (under the working directory)',
    schema: nonEmpty('a folder path'),
    fallback: () => '.data/inbox',
  }),
  INBOX_MAX_PENDING: spec({
    description:
      'Events stored and not yet counted beyond which Slack gets 503 with Retry-After at once.',
    defaultText: '100000',
    schema: integer(1, 10_000_000),
    fallback: () => 100_000,
  }),
  SLACK_MAX_IN_FLIGHT: spec({
    description:
      'Slack events waiting for the inbox fsync beyond which more get 503 with Retry-After at once.',
    defaultText: '512',
    schema: integer(1, 100_000),
    fallback: () => 512,
  }),
  COUNTS_REFRESH_MS: spec({
    description:
      "Interval at which the in-memory counts (served to dashboards) are re-read from MongoDB, picking up other processes' changes (0: only at start and after an outage).",
    defaultText: '5000',
    schema: integer(0, 3_600_000),
    fallback: () => 5_000,
  }),
  REDIS_URL: spec<string>({
    description:
      'Redis shared by several droplet processes: each counted change is published on it and every process broadcasts it to its own dashboards. Unset: one process, no Redis.',
    defaultText: '(none: one process)',
    schema: redisUrl,
    optional: true,
  }),
  REDIS_KEY_PREFIX: spec({
    description:
      'Prefix of the Redis channel and lock keys, so that several deployments can share one Redis.',
    defaultText: 'reactometer:',
    schema: nonEmpty('a key prefix'),
    fallback: () => 'reactometer:',
  }),
  STORE_LOCK: spec<StoreLock>({
    description:
      "Cross-process lease per base emoji around an event's writes: `redis` (needs REDIS_URL) when several processes share a FerretDB, whose updates are read-then-write; `off` on real MongoDB, whose single-document writes are atomic.",
    defaultText: 'off',
    schema: oneOf(STORE_LOCKS),
    fallback: () => 'off',
  }),
  STORE_LOCK_LEASE_MS: spec({
    description:
      "How long a process's lease on an emoji lasts if it never releases it (a crash); above the longest time one event's writes can take.",
    defaultText: '10000',
    schema: integer(1000, 600_000),
    fallback: () => 10_000,
  }),
  SHUTDOWN_GRACE_MS: spec({
    description:
      'On SIGTERM, how long in-flight HTTP requests may take before connections are cut.',
    defaultText: '10000',
    schema: integer(0, 600_000),
    fallback: () => 10_000,
  }),
  ...VIEWER_ACCESS_KEYS,
  LOG_LEVEL: spec<LogLevel>({
    description: `pino log level (${LOG_LEVELS.join(', ')}).`,
    defaultText: 'info',
    schema: oneOf(LOG_LEVELS),
    fallback: () => 'info',
  }),
} as const;

export type ConfigKey = keyof typeof CONFIG_KEYS;

/** What the database-facing commands (main, reconcile) need. */
export interface StoreConfig {
  readonly mongodbUri: string | undefined;
  readonly mongodbDb: string;
  readonly pendingLeaseMs: number;
  readonly logLevel: LogLevel;
}

/** Everything the droplet process needs. */
export interface DropletConfig extends StoreConfig {
  readonly port: number;
  readonly host: string;
  readonly slackSigningSecret: string;
  readonly wsMaxConnections: number;
  readonly wsMaxConnectionsPerAddress: number;
  readonly wsMaxQueuedRequests: number;
  readonly httpHeadersTimeoutMs: number;
  readonly httpRequestTimeoutMs: number;
  readonly httpKeepAliveTimeoutMs: number;
  /** DASHBOARD_AUTH and its companions (`@reactometer/shared/auth`). */
  readonly viewerAccess: ViewerAccessSettings;
  readonly wsMaxPayloadBytes: number;
  readonly wsMaxBufferedBytes: number;
  readonly wsHeartbeatMs: number;
  readonly broadcastWindowMs: number;
  /** null: no metrics listener. */
  readonly metricsPort: number | null;
  readonly metricsHost: string;
  /** Express's `trust proxy` value; false trusts no one. */
  readonly trustProxy: string | false;
  readonly shutdownGraceMs: number;
  readonly inboxDir: string;
  readonly inboxMaxPending: number;
  readonly slackMaxInFlight: number;
  readonly countsRefreshMs: number;
  /** undefined: one process, no Redis. */
  readonly redisUrl: string | undefined;
  readonly redisKeyPrefix: string;
  readonly storeLock: StoreLock;
  readonly storeLockLeaseMs: number;
}

const STORE_KEYS = ['MONGODB_URI', 'MONGODB_DB', 'PENDING_LEASE_MS', 'LOG_LEVEL'] as const;

function toStoreConfig(v: EnvValues<typeof CONFIG_KEYS, (typeof STORE_KEYS)[number]>): StoreConfig {
  return {
    mongodbUri: v.MONGODB_URI,
    mongodbDb: v.MONGODB_DB!,
    pendingLeaseMs: v.PENDING_LEASE_MS!,
    logLevel: v.LOG_LEVEL!,
  };
}

/** The droplet's whole configuration; throws `ConfigError` naming every invalid variable. */
export function loadConfig(env: Env = process.env): DropletConfig {
  const v = readEnvKeys(CONFIG_KEYS, env, Object.keys(CONFIG_KEYS) as ConfigKey[]);
  // Node refuses a headers timeout above the request timeout; say which variables to fix.
  if (v.HTTP_HEADERS_TIMEOUT_MS! > v.HTTP_REQUEST_TIMEOUT_MS!) {
    throw new ConfigError([
      'HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS (the headers are part of the request)',
    ]);
  }
  if (v.STORE_LOCK === 'redis' && v.REDIS_URL === undefined) {
    throw new ConfigError(['STORE_LOCK: redis needs REDIS_URL (the Redis that holds the leases)']);
  }
  // The non-null assertions are safe: `readEnvKeys` throws unless every non-optional key has a
  // value.
  return {
    ...toStoreConfig(v),
    port: v.PORT!,
    host: v.HOST!,
    slackSigningSecret: v.SLACK_SIGNING_SECRET!,
    wsMaxConnections: v.WS_MAX_CONNECTIONS!,
    wsMaxConnectionsPerAddress: v.WS_MAX_CONNECTIONS_PER_ADDRESS!,
    wsMaxQueuedRequests: v.WS_MAX_QUEUED_REQUESTS!,
    httpHeadersTimeoutMs: v.HTTP_HEADERS_TIMEOUT_MS!,
    httpRequestTimeoutMs: v.HTTP_REQUEST_TIMEOUT_MS!,
    httpKeepAliveTimeoutMs: v.HTTP_KEEP_ALIVE_TIMEOUT_MS!,
    viewerAccess: toViewerAccess(v),
    wsMaxPayloadBytes: v.WS_MAX_PAYLOAD_BYTES!,
    wsMaxBufferedBytes: v.WS_MAX_BUFFERED_BYTES!,
    wsHeartbeatMs: v.WS_HEARTBEAT_MS!,
    broadcastWindowMs: v.BROADCAST_WINDOW_MS!,
    metricsPort: v.METRICS_PORT!,
    metricsHost: v.METRICS_HOST!,
    trustProxy: v.TRUST_PROXY!,
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS!,
    inboxDir: v.INBOX_DIR!,
    inboxMaxPending: v.INBOX_MAX_PENDING!,
    slackMaxInFlight: v.SLACK_MAX_IN_FLIGHT!,
    countsRefreshMs: v.COUNTS_REFRESH_MS!,
    redisUrl: v.REDIS_URL,
    redisKeyPrefix: v.REDIS_KEY_PREFIX!,
    storeLock: v.STORE_LOCK!,
    storeLockLeaseMs: v.STORE_LOCK_LEASE_MS!,
  };
}

/** Only the database settings (the reconcile command needs no Slack secret). */
export function loadStoreConfig(env: Env = process.env): StoreConfig {
  return toStoreConfig(readEnvKeys(CONFIG_KEYS, env, STORE_KEYS));
}

/** The connection string, or a `ConfigError` naming MONGODB_URI when it is unset. */
export function requireMongoUri(config: StoreConfig): string {
  if (config.mongodbUri === undefined) {
    throw new ConfigError([
      'MONGODB_URI: is required (a mongodb:// connection string; `npm run legacy` starts a local FerretDB when unset)',
    ]);
  }
  return config.mongodbUri;
}

/**
 * A Markdown table of every variable, its default and its description (for the README). Columns
 * are padded the way Prettier formats tables, so that the README can hold it verbatim.
 */
export function describeConfig(): string {
  return describeEnvKeys(CONFIG_KEYS);
}
