/**
 * The quick form of `npm run chaos -- --target serverless`: the same run (serverless-offline,
 * ElasticMQ, dynalite in its own process on LevelDB, SIGKILLs of dynalite and of the function
 * host, dashboards dropped), shortened: 300 events at 20/s. Slack's schedule is divided by 10
 * (retries after 0 s, 6 s and 30 s), because restarting serverless-offline takes about 15 s here;
 * the long dynalite outage is 35 s, past that window.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runChaos, type ChaosResult } from '../src/chaos/chaos-run.js';
import type { ChaosTarget } from '../src/chaos/chaos-target.js';
import { startServerlessTarget } from '../src/chaos/serverless-target.js';

let target: ChaosTarget | undefined;
let result: ChaosResult;
const lines: string[] = [];

beforeAll(async () => {
  target = await startServerlessTarget((l) => lines.push(l));
  result = await runChaos(
    target,
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
    (l) => lines.push(l),
  );
}, 240_000);

afterAll(async () => {
  await target?.teardown();
}, 60_000);

describe('chaos run against serverless-offline (quick form)', () => {
  it('loses nothing, doubles nothing, and Slack gives up on nothing', () => {
    expect({
      sent: result.sent,
      acknowledged: result.acknowledged,
      gaveUp: result.gaveUp,
      lost: result.lost,
      doubled: result.doubled,
    }).toEqual({ sent: 300, acknowledged: 300, gaveUp: 0, lost: 0, doubled: 0 });
  });

  it('every dashboard and GET /reactions converge after the inbox drains, with no reconcile', () => {
    expect({ converged: result.converged, dashboards: result.dashboardsConverged }).toEqual({
      converged: true,
      dashboards: 8,
    });
    expect(result.faults.map((f) => f.what).join('\n')).toMatch(
      /SIGKILL #1[\s\S]*SIGKILL #2[\s\S]*application SIGKILL/,
    );
  });
});
