export * from './run-cli.js';
export * from './option-parsers.js';
export * from './reconcile-command.js';
