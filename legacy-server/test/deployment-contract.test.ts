// The shared HTTP + WebSocket contract against the droplet, started in-process on a free port
// with the real MongoDB store on a real FerretDB.
import { describeDeploymentContract } from '@reactometer/shared/contract-tests';
import {
  startDroplet,
  startTestDatabase,
  testSettings,
  TEST_SIGNING_SECRET,
} from './support/harness.js';

describeDeploymentContract('droplet (Express + ws + FerretDB)', async () => {
  const db = await startTestDatabase();
  try {
    const store = await db.openStore();
    const { droplet, httpUrl, wsUrl } = await startDroplet({ ...testSettings(), store });
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
