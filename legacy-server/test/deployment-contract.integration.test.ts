// The shared HTTP + WebSocket contract against the droplet, started in-process on a free port
// with the real MongoDB store on a real FerretDB. With coalescing off (BROADCAST_WINDOW_MS=0): the
// contract's "every client receives every update" posts changes closer together than the default
// window, which coalescing merges on purpose; coalescing has its own tests
// (update-coalescer.test.ts, broadcast-coalescing.integration.test.ts).
import { describeDeploymentContract } from '@reactometer/shared/contract-tests';
import { TEST_SIGNING_SECRET } from '@reactometer/devkit';
import {
  startInProcessDroplet,
  startTestDatabase,
  dropletTestSettings,
} from '@reactometer/devkit/droplet';

describeDeploymentContract('droplet (Express + ws + FerretDB)', async () => {
  const db = await startTestDatabase();
  try {
    const store = await db.openStore();
    const { droplet, httpUrl, wsUrl } = await startInProcessDroplet({
      ...dropletTestSettings({ BROADCAST_WINDOW_MS: '0' }),
      store,
    });
    return {
      httpUrl,
      wsUrl,
      signingSecret: TEST_SIGNING_SECRET,
      teardown: async () => {
        await droplet.stop();
        await db.cleanup();
      },
    };
  } catch (err) {
    await db.cleanup();
    throw err;
  }
});
