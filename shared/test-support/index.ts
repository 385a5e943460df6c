export * from './store-contract.js';
export * from './deployment-contract.js';
export * from './ws-test-client.js';
export * from './failing-parts.js';
export * from './viewer-access-contract.js';
