/**
 * What other workspaces may use of the droplet: its composition pieces (the edge, its
 * configuration, the MongoDB store), for the local-stack toolkit, the browser tests and the data
 * migration. The process itself is `main.ts`.
 */
export {
  createDroplet,
  WS_PATH,
  type Droplet,
  type DropletOptions,
  type DropletSettings,
} from './app.js';
export {
  CONFIG_KEYS,
  ConfigError,
  describeConfig,
  loadConfig,
  loadStoreConfig,
  requireMongoUri,
  type DropletConfig,
  type LogLevel,
  type StoreConfig,
} from './config.js';
export {
  createMongoReactionStore,
  type MongoReactionStore,
  type MongoReactionStoreOptions,
} from './mongo-reaction-store.js';
export { DropletMetrics, createMetricsListener, type MetricsListener } from './metrics.js';
export {
  UpdateCoalescer,
  type Schedule,
  type UpdateCoalescerOptions,
} from './ws/update-coalescer.js';
