/**
 * Viewer access (`@reactometer/shared/auth`): tokens, the origin allow-list and Slack sign-in.
 * A subpath of its own so that what imports the rest of the core (the dashboard) does not carry
 * jose.
 */
export * from './dashboard-token.js';
export * from './origins.js';
export * from './viewer-access.js';
export * from './slack-sign-in.js';
export * from './access-config.js';
