/**
 * What other workspaces may use of the serverless deployment: its DynamoDB adapters, the names
 * serverless.yml gives its resources, where the service lives (for the local stack and the data
 * migration), and the fan-out's parts with its defaults (for its benchmark and the AWS model). The Lambda entry points are `handlers/*`, bundled by plugins/bundle-handlers.js.
 */
export {
  createDocumentClient,
  destroyDocumentClient,
  type DocumentClientOptions,
} from './adapters/dynamodb-client.js';
export {
  DynamoReactionStore,
  type DynamoReactionStoreOptions,
} from './adapters/dynamodb-reaction-store.js';
export {
  DynamoConnectionRegistry,
  type DynamoConnectionRegistryOptions,
} from './adapters/dynamodb-connection-registry.js';
export * from './stack-names.js';
export {
  ApiGatewaySender,
  createManagementClient,
  type ManagementClientOptions,
} from './adapters/api-gateway-sender.js';
export { LeanConnectionSender, type LeanSenderOptions } from './adapters/lean-connection-sender.js';
export type { AwsCredentials, CredentialsProvider } from './adapters/signed-http.js';
export {
  runSegment,
  type SegmentDeps,
  type SegmentEvent,
  type SegmentSummary,
} from './fanout/segment.js';
export { createShardedFlush, type FlushSummary } from './fanout/sharded-flush.js';
export {
  CONFIG_KEYS,
  DEFAULT_CONNECTIONS_PAGE_SIZE,
  FANOUT_DEFAULTS,
  LOG_LEVELS,
  loadRuntimeConfig,
  loadStoreConfig,
  type LogLevel as LambdaLogLevel,
} from './config.js';
