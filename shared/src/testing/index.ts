export * from './in-memory-reaction-store.js';
export * from './fakes.js';
export * from './wait.js';
export * from './slack-payloads.js';
export * from './in-memory-fan-out-gate.js';
