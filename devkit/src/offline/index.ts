export * from './offline-stack.js';
export * from './offline-stack-process.js';
export * from './dynalite-server.js';
export * from './table-definitions.js';
export * from './offline-config.js';
export * from './dynalite-process.js';
export * from './inbox-queues.js';
export * from './sqs-poller.js';
