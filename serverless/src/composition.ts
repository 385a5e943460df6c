/**
 * The serverless deployment's composition root. Each handler module calls the factories it needs
 * at module scope, so configuration is validated and AWS clients are created once per execution
 * environment (cold start) and reused by every warm invocation. Each factory builds its part on
 * first use only, so a function never needs the configuration, or pays for the clients, of the
 * parts it does not use: the fan-out has no Slack secret, the Slack handler no management API.
 */
import type { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  systemClock,
  type ConnectionRegistry,
  type CountingDeps,
  type InboxSlackDeps,
  type ReactionStore,
} from '@reactometer/shared';
import { CachedCounts } from './adapters/cached-counts.js';
import { SqsInbox, createSqsClient } from './adapters/sqs-inbox.js';
import { ApiGatewaySender, createManagementClient } from './adapters/api-gateway-sender.js';
import { createDocumentClient } from './adapters/dynamodb-client.js';
import { DynamoConnectionRegistry } from './adapters/dynamodb-connection-registry.js';
import { DynamoReactionStore } from './adapters/dynamodb-reaction-store.js';
import { SnsPublisher, createSnsClient } from './adapters/sns-publisher.js';
import {
  loadAccessConfig,
  loadConnectionsConfig,
  loadCountsCacheMs,
  loadInboxConfig,
  loadPublishConfig,
  loadRuntimeConfig,
  loadSenderConfig,
  loadSlackConfig,
  loadStoreConfig,
  type AccessConfig,
  type ConnectionsConfig,
  type Env,
  type RuntimeConfig,
  type SenderConfig,
  type StoreConfig,
} from './config.js';
import { createLogger, createMetrics, type Logger, type Metrics } from './observability.js';

/** A lazily built singleton. */
export function once<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => (built ??= { value: build() }).value;
}

/** Everything a handler may need; build it with `createComposition(process.env)` at module scope. */
export interface Composition {
  /** The environment the parts read (a null value counts as unset, see `readEnvKeys`). */
  readonly env: Env;
  readonly runtime: () => RuntimeConfig;
  readonly logger: () => Logger;
  readonly metrics: () => Metrics;
  readonly storeConfig: () => StoreConfig;
  readonly connectionsConfig: () => ConnectionsConfig;
  readonly senderConfig: () => SenderConfig;
  /** Viewer access: DASHBOARD_AUTH, ALLOWED_ORIGINS, Slack sign-in. */
  readonly accessConfig: () => AccessConfig;
  readonly documentClient: () => DynamoDBDocumentClient;
  readonly store: () => ReactionStore;
  readonly registry: () => ConnectionRegistry;
  /** `POST /slack/events`: the signing secret and the inbox queue. */
  readonly slackDeps: () => InboxSlackDeps;
  /** The inbox queue (appends, and its depth for `/healthz`). */
  readonly inbox: () => SqsInbox;
  /** The counting function: the store and the SNS publisher. */
  readonly countingDeps: () => CountingDeps;
  /** The counts as reads serve them: one read per `COUNTS_CACHE_MS` per warm container. */
  readonly counts: () => CachedCounts;
  /** One sender per management endpoint (in practice one per process). */
  readonly sender: (endpoint: string) => ApiGatewaySender;
}

export function createComposition(env: Env): Composition {
  const runtime = once(() => loadRuntimeConfig(env));
  const storeConfig = once(() => loadStoreConfig(env));
  const connectionsConfig = once(() => loadConnectionsConfig(env));
  const senderConfig = once(() => loadSenderConfig(env));

  const documentClient = once(() => {
    const { region, dynamodbEndpoint, dynamodbRequestTimeoutMs } = runtime();
    return createDocumentClient({
      region,
      ...(dynamodbEndpoint === undefined ? {} : { endpoint: dynamodbEndpoint }),
      requestTimeoutMs: dynamodbRequestTimeoutMs,
      // The fan-out deletes gone connections from inside its send pool, so DynamoDB may see as
      // many calls in flight as there are sends.
      maxSockets: Math.max(50, senderConfig().concurrency),
    });
  });

  const store = once(
    (): ReactionStore =>
      new DynamoReactionStore({
        client: documentClient(),
        statesTable: storeConfig().statesTable,
        countsTable: storeConfig().countsTable,
      }),
  );

  const registry = once(
    (): ConnectionRegistry =>
      new DynamoConnectionRegistry({
        client: documentClient(),
        table: connectionsConfig().connectionsTable,
        pageSize: connectionsConfig().pageSize,
      }),
  );

  const inbox = once((): SqsInbox => {
    const config = loadInboxConfig(env);
    return new SqsInbox({
      client: createSqsClient({
        region: runtime().region,
        ...(config.sqsEndpoint === undefined ? {} : { endpoint: config.sqsEndpoint }),
        requestTimeoutMs: config.sqsRequestTimeoutMs,
      }),
      queueUrl: config.queueUrl,
      maxPending: config.maxPending,
      clock: systemClock,
    });
  });

  const slackDeps = once((): InboxSlackDeps => {
    const { signingSecret } = loadSlackConfig(env);
    return { inbox: inbox(), clock: systemClock, signingSecret };
  });

  const countingDeps = once((): CountingDeps => {
    const publish = loadPublishConfig(env);
    const snsClient = createSnsClient({
      region: runtime().region,
      ...(publish.snsEndpoint === undefined ? {} : { endpoint: publish.snsEndpoint }),
      requestTimeoutMs: publish.snsRequestTimeoutMs,
    });
    return {
      store: store(),
      publisher: new SnsPublisher({ client: snsClient, topicArn: publish.topicArn }),
      clock: systemClock,
      pendingLeaseMs: storeConfig().pendingLeaseMs,
    };
  });

  const counts = once(() => new CachedCounts(store(), loadCountsCacheMs(env), systemClock));

  const senders = new Map<string, ApiGatewaySender>();
  const sender = (endpoint: string): ApiGatewaySender => {
    let existing = senders.get(endpoint);
    if (existing === undefined) {
      const { concurrency, sendTimeoutMs } = senderConfig();
      const client: ApiGatewayManagementApiClient = createManagementClient({
        endpoint,
        region: runtime().region,
        // Never below the SDK's default of 50: the local stack runs every invocation in one
        // process, where the WebSocket replies share this client with each other.
        maxSockets: Math.max(50, concurrency),
        requestTimeoutMs: sendTimeoutMs,
      });
      existing = new ApiGatewaySender(client);
      senders.set(endpoint, existing);
    }
    return existing;
  };

  return {
    env,
    runtime,
    logger: once(() => createLogger(runtime())),
    metrics: once(() => createMetrics(runtime())),
    storeConfig,
    connectionsConfig,
    senderConfig,
    accessConfig: once(() => loadAccessConfig(env)),
    documentClient,
    store,
    registry,
    slackDeps,
    inbox,
    countingDeps,
    counts,
    sender,
  };
}
