/**
 * The serverless deployment under chaos: the local stack as `npm run serverless` starts it
 * (serverless-offline, serverless-offline-sns, ElasticMQ with the inbox queues, the event-source
 * poller), with dynalite in a process of its own on a LevelDB folder, so that it can be SIGKILLed
 * and started again on the same data. The inbox queue's visibility timeout is 10 s here instead
 * of the deployed 60 s (an emulator tuning, so that a run stays short): an event the counter could
 * not apply during an outage is retried 10 s later.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TEST_SIGNING_SECRET } from '@reactometer/devkit';
import { startOfflineStack } from '@reactometer/devkit/offline';
import type { ChaosTarget } from './chaos-target.js';

export async function startServerlessTarget(log: (line: string) => void): Promise<ChaosTarget> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'reactometer-chaos-serverless-'));
  const stack = await startOfflineStack({
    signingSecret: TEST_SIGNING_SECRET,
    dynalite: 'process',
    dynaliteDataDir: path.join(root, 'dynalite'),
    inboxVisibilityTimeoutSeconds: 10,
  });
  log(
    `serverless-offline on ${stack.httpUrl}, dynalite ${stack.dynamodbEndpoint}, SQS ${stack.sqsEndpoint}`,
  );
  return {
    name: 'serverless',
    httpUrl: () => stack.httpUrl,
    wsUrl: () => stack.wsUrl,
    signingSecret: TEST_SIGNING_SECRET,
    killDatabase: () => stack.killDatabase(),
    startDatabase: () => stack.startDatabase(),
    restartApplication: async () => {
      await stack.restartHost();
      log('serverless-offline restarted');
    },
    teardown: async () => {
      await stack.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
