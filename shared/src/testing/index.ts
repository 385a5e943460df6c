export * from './in-memory-reaction-store.js';
export * from './fakes.js';
