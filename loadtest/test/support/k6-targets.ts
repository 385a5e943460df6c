/**
 * The ONE place the k6 harness tests start local deployments: wraps the runner's starters so a
 * move of those starters is rewired here only. Each target listens on free loopback ports and is
 * stopped by the caller.
 */
import { startDropletTarget, startServerlessTarget } from '../../src/runner/deployments.js';
import { assertLocalTarget } from '../../src/runner/target.js';

export type K6TargetName = 'droplet' | 'serverless-local';

/** The secret both local deployments are started with in these tests. */
export const K6_TEST_SIGNING_SECRET = 'k6-harness-test-secret';

export interface K6Target {
  readonly name: K6TargetName;
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly signingSecret: string;
  /** The `-e` values that point a k6 script at this deployment. */
  readonly env: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

export async function startK6Target(name: K6TargetName): Promise<K6Target> {
  const options = { signingSecret: K6_TEST_SIGNING_SECRET, maxNewConnectionsPerSecond: 200 };
  const running =
    name === 'droplet' ? await startDropletTarget(options) : await startServerlessTarget(options);
  const { target } = running;
  // Load goes to this machine only.
  assertLocalTarget(target);
  return {
    name,
    httpUrl: target.httpUrl,
    wsUrl: target.wsUrl,
    signingSecret: K6_TEST_SIGNING_SECRET,
    env: {
      TARGET: name,
      HTTP_URL: target.httpUrl,
      WS_URL: target.wsUrl,
      SLACK_SIGNING_SECRET: K6_TEST_SIGNING_SECRET,
    },
    stop: () => running.stop(),
  };
}
