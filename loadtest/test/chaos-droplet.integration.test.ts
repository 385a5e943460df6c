/**
 * The quick form of `npm run chaos -- --target droplet`: the same run (real FerretDB on
 * PostgreSQL, the droplet as its own process, SIGKILLs of both, dashboards dropped), shortened:
 * 300 events at 20/s, Slack's retry schedule divided by 60 (retries after 0 s, 1 s and 5 s), the
 * long database outage 7 s.
 */
import { startDropletTarget } from '../src/chaos/droplet-target.js';
import { describeQuickChaos } from './support/quick-chaos.js';

describeQuickChaos(
  'the droplet',
  startDropletTarget,
  {
    events: 300,
    rate: 20,
    outageSeconds: 7,
    compress: 60,
    dashboards: 8,
    seed: 11,
    dropEveryMs: 1_000,
    settleTimeoutMs: 60_000,
  },
  150_000,
);
