// The shared HTTP + WebSocket contract against the droplet, started in-process on a free port
// with the real MongoDB store on a real FerretDB.
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
      ...dropletTestSettings(),
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
