/**
 * The quick form of `npm run chaos -- --target serverless`: the same run (serverless-offline,
 * ElasticMQ, dynalite in its own process on LevelDB, SIGKILLs of dynalite and of the function
 * host, dashboards dropped), shortened: 300 events at 20/s. Slack's schedule is divided by 10
 * (retries after 0 s, 6 s and 30 s), because restarting serverless-offline takes about 15 s here;
 * the long dynalite outage is 35 s, past that window.
 */
import { startServerlessTarget } from '../src/chaos/serverless-target.js';
import { describeQuickChaos } from './support/quick-chaos.js';

describeQuickChaos(
  'serverless-offline',
  startServerlessTarget,
  {
    events: 300,
    rate: 20,
    outageSeconds: 35,
    compress: 10,
    dashboards: 8,
    seed: 12,
    dropEveryMs: 1_000,
    settleTimeoutMs: 90_000,
  },
  240_000,
);
