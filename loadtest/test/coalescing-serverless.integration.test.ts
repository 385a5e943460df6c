/**
 * Coalescing on serverless-local, end to end: 1,000 dashboards on the offline stack (default
 * window, 1 s) while Slack events add and remove reactions at 20/s for 30 s. Every dashboard must
 * end with the exact final counts, none may get two updates closer than the window, and no
 * version may go backwards. The same check (`checkCoalescing`) runs against the droplet.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { REPO_ROOT } from '@reactometer/devkit';
import { FANOUT_DEFAULTS } from '@reactometer/serverless';
import { startServerlessTarget, type RunningTarget } from '../src/runner/deployments.js';
import { checkCoalescing } from '../src/runner/coalescing-check.js';

const SECRET = `coalescing-${process.pid}`;
let running: RunningTarget;

beforeAll(async () => {
  running = await startServerlessTarget({ signingSecret: SECRET, maxNewConnectionsPerSecond: 200 });
}, 240_000);

afterAll(async () => {
  await running?.stop();
}, 60_000);

describe('coalescing on serverless-local', () => {
  it('1,000 dashboards, 20 events/s for 30 s: exact final counts everywhere, at most one update per window', async () => {
    const result = await checkCoalescing(running.target, {
      dashboards: 1_000,
      eventsPerSecond: 20,
      seconds: 30,
      windowMs: FANOUT_DEFAULTS.windowMs,
    });
    const seen = JSON.stringify(result);
    // The figures, for whoever reads the run (assertions below say what must hold).
    const out = path.join(REPO_ROOT, 'test-artifacts');
    mkdirSync(out, { recursive: true });
    writeFileSync(
      path.join(out, 'coalescing-serverless.json'),
      `${JSON.stringify(result, null, 2)}\n`,
    );
    expect([seen, result.connected]).toEqual([seen, 1_000]);
    expect([seen, result.eventsFailed]).toEqual([seen, 0]);
    expect([seen, result.server]).toEqual([seen, result.expected]);
    expect([seen, result.dashboardsExact]).toEqual([seen, 1_000]);
    expect([seen, result.gapsBelowWindow]).toEqual([seen, 0]);
    expect([seen, result.versionRegressions]).toEqual([seen, 0]);
    // Far fewer updates than the 600 changes: they were merged.
    expect(result.maxUpdatesPerDashboard).toBeLessThan(60);
    expect(result.ok).toBe(true);
  }, 300_000);
});
