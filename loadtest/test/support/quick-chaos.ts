/**
 * The quick form of `npm run chaos` as a Jest suite, shared by both deployments' tests: one run
 * in `beforeAll`, then the issue's acceptance checks on its result.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runChaos, type ChaosOptions, type ChaosResult } from '../../src/chaos/chaos-run.js';
import type { ChaosTarget } from '../../src/chaos/chaos-target.js';

export function describeQuickChaos(
  name: string,
  start: (log: (line: string) => void) => Promise<ChaosTarget>,
  options: ChaosOptions,
  timeoutMs: number,
): void {
  let target: ChaosTarget | undefined;
  let result: ChaosResult;
  const lines: string[] = [];

  beforeAll(async () => {
    target = await start((l) => lines.push(l));
    result = await runChaos(target, options, (l) => lines.push(l));
  }, timeoutMs);

  afterAll(async () => {
    await target?.teardown();
  }, 60_000);

  describe(`chaos run against ${name} (quick form)`, () => {
    it('loses nothing, doubles nothing, and Slack gives up on nothing', () => {
      expect({
        sent: result.sent,
        acknowledged: result.acknowledged,
        gaveUp: result.gaveUp,
        lost: result.lost,
        doubled: result.doubled,
      }).toEqual({
        sent: options.events,
        acknowledged: options.events,
        gaveUp: 0,
        lost: 0,
        doubled: 0,
      });
    });

    it('every dashboard and GET /reactions converge after the inbox drains, with no reconcile', () => {
      expect({ converged: result.converged, dashboards: result.dashboardsConverged }).toEqual({
        converged: true,
        dashboards: options.dashboards,
      });
      // The faults did happen: two database kills and one application kill, and dashboards
      // reconnected.
      expect(result.faults.map((f) => f.what).join('\n')).toMatch(
        /SIGKILL #1[\s\S]*SIGKILL #2[\s\S]*application SIGKILL/,
      );
      expect(result.dashboardConnects).toBeGreaterThan(options.dashboards);
    });
  });
}
