/**
 * The deployment contract (shared with the droplet) against the local serverless stack:
 * serverless-offline's HTTP API and WebSocket API, the Lambda handlers, dynalite, and
 * serverless-offline-sns delivering count changes to the fan-out function.
 *
 * With coalescing off (FANOUT_WINDOW_MS=0): the contract's "every client receives every update"
 * posts four changes within a few hundred milliseconds and expects four updates, which a
 * coalescing window merges by design (the latest state, at most one update per window). What
 * coalescing promises instead is tested in fanout-coalescing.integration.test.ts, the core's
 * coalesce tests and loadtest's coalescing check against this same stack.
 */
import { describeDeploymentContract } from '@reactometer/shared/contract-tests';
import { startOfflineStack } from '@reactometer/devkit/offline';

const signingSecret = `offline-contract-${process.pid}`;
const READ_CACHE_MS = 200;

describeDeploymentContract(
  'serverless offline',
  async () => {
    const stack = await startOfflineStack({
      signingSecret,
      // Reads are cached per warm container; a short cache keeps the suite quick.
      env: { FANOUT_WINDOW_MS: '0', COUNTS_CACHE_MS: String(READ_CACHE_MS) },
    });
    return {
      httpUrl: stack.httpUrl,
      wsUrl: stack.wsUrl,
      signingSecret,
      teardown: () => stack.stop(),
    };
  },
  {
    // Updates travel Slack handler -> SNS -> fan-out -> @connections; a cold fan-out adds a bundle load.
    wsTimeoutMs: 15_000,
    readStaleMs: READ_CACHE_MS,
    // serverless-offline keeps only the last of two X-Slack-Signature lines (API Gateway joins
    // them); handlers-http tests the rule on API Gateway's event shape.
    joinsRepeatedHeaders: false,
    deliversFalsyJsonBodies: false,
    setupTimeoutMs: 180_000,
    // API Gateway has its own frame limit (32 KB per frame) and cannot close a socket with 1009.
    closesOversizedFrames: false,
  },
);
