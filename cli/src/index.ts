export * from './run-cli.js';
export * from './option-parsers.js';
