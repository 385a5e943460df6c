/**
 * `npm run model -- --clients N --events-per-second R [--window-ms W] [--workers S] [--json]`:
 * what the deployed serverless design would do on AWS, MODELLED (nothing here ran on AWS): one
 * update's delivery latency and time to finish, API Gateway requests against the throttle, Lambda
 * concurrency, messages and cost per month. Parameters: loadtest/cost/aws-model.json (each with
 * its source) and the design's defaults (serverless/src/config.ts). docs/limits.md explains it.
 * The command line is checked here before the model loads (model-report.ts does the work).
 */
import { fileURLToPath } from 'node:url';
import { createCommand, listOption, numberOption, runCli, type Command } from '@reactometer/cli';
import type { ModelOptions } from './model-report.js';

export function modelProgram(): Command {
  return createCommand(
    'npm run model',
    'What the deployed serverless design would do on AWS (MODELLED): delivery latency of one update, requests against the API Gateway throttle, Lambda concurrency, messages and cost per month. Parameters: loadtest/cost/aws-model.json.',
  )
    .option(
      '--clients <list>',
      'dashboards, one or a comma-separated list (default 1000,10000,100000,1000000)',
      listOption(numberOption({ integer: true, min: 1, max: 10_000_000 })),
    )
    .option(
      '--events-per-second <n>',
      "count changes per second (default 8.3, Slack's cap per workspace)",
      numberOption({ min: 0, max: 10_000 }),
    )
    .option(
      '--window-ms <ms>',
      'coalescing window (default 1000, serverless/src/config.ts; 0: off)',
      numberOption({ integer: true, min: 0, max: 60_000 }),
    )
    .option(
      '--workers <n>',
      'a fixed number of fan-out workers (default: derived from the clients)',
      numberOption({ integer: true, min: 1, max: 1000 }),
    )
    .option(
      '--hours-connected-per-day <h>',
      'hours a day dashboards are open, for the monthly figures (default 8)',
      numberOption({ above: 0, max: 24 }),
    )
    .option(
      '--events-per-day <n>',
      'events a day for the monthly figures (default: the rate over the open hours)',
      numberOption({ min: 0 }),
    )
    .option('--json', 'one JSON object per N');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runCli<ModelOptions>(modelProgram(), async (options) => {
    const { modelReport } = await import('./model-report.js');
    process.stdout.write(`${modelReport(options)}\n`);
  });
}
