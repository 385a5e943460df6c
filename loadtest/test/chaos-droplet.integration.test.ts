/**
 * The quick form of `npm run chaos -- --target droplet`: the same run (real FerretDB on
 * PostgreSQL, the droplet as its own process, SIGKILLs of both, dashboards dropped), shortened:
 * 300 events at 20/s, Slack's retry schedule divided by 60 (retries after 0 s, 1 s and 5 s), the
 * long database outage 7 s.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runChaos, type ChaosResult } from '../src/chaos/chaos-run.js';
import type { ChaosTarget } from '../src/chaos/chaos-target.js';
import { startDropletTarget } from '../src/chaos/droplet-target.js';

let target: ChaosTarget | undefined;
let result: ChaosResult;
const lines: string[] = [];

beforeAll(async () => {
  target = await startDropletTarget((l) => lines.push(l));
  result = await runChaos(
    target,
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
    (l) => lines.push(l),
  );
}, 150_000);

afterAll(async () => {
  await target?.teardown();
}, 60_000);

describe('chaos run against the droplet (quick form)', () => {
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
    // The faults did happen: two database kills and one application kill.
    expect(result.faults.map((f) => f.what).join('\n')).toMatch(
      /SIGKILL #1[\s\S]*SIGKILL #2[\s\S]*application SIGKILL/,
    );
    expect(result.dashboardConnects).toBeGreaterThan(8);
  });
});
