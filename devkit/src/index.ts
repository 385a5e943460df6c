/**
 * The light part of the local-stack toolkit: paths, ports, managed child processes, the dev and
 * test signing secrets, waiting helpers and measurement. The starters live in subpaths, so that
 * importing this loads no deployment: `@reactometer/devkit/ferretdb`, `/postgres`, `/nginx`,
 * `/droplet`, `/offline`, `/chromium`.
 */
export * from './paths.js';
export * from './ports.js';
export * from './managed-process.js';
export * from './dev-secret.js';
export * from './server-guard.js';
export * from './measure/histogram.js';
export * from './measure/proc-stats.js';
export * from './measure/distributions.js';
export * from './measure/fan-out-simulation.js';
export { eventually, sleep, within, type EventuallyOptions } from '@reactometer/shared/testing';
export * from './viewer-token.js';
