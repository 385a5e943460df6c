export * from './droplet-process.js';
export * from './in-process-droplet.js';
export * from './test-database.js';
export * from './dev-database.js';
export * from './droplet-build.js';
export * from './droplet-cluster.js';
