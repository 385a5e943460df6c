/**
 * What other workspaces may use of the serverless deployment: its DynamoDB adapters, the names
 * serverless.yml gives its resources, and where the service lives (for the local stack and the
 * data migration). The Lambda entry points are `handlers/*`, bundled by plugins/bundle-handlers.js.
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
  CONFIG_KEYS,
  DEFAULT_CONNECTIONS_PAGE_SIZE,
  LOG_LEVELS,
  loadRuntimeConfig,
  loadStoreConfig,
  type LogLevel as LambdaLogLevel,
} from './config.js';
