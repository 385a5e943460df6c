/**
 * The in-process droplets of an edge test file, on one FerretDB store: started per test, stopped
 * (with the sockets the test opened) after each, the database removed after the file. Call at
 * the top level of a test file; it registers the Jest hooks.
 */
import { afterAll, afterEach, beforeAll } from '@jest/globals';
import { WsTestClient } from '@reactometer/shared/contract-tests';
import {
  dropletTestSettings,
  startInProcessDroplet,
  startTestDatabase,
  type InProcessDroplet,
  type TestDatabase,
} from '@reactometer/devkit/droplet';
import type { MongoReactionStore } from '../../src/mongo-reaction-store.js';

export interface DropletRig {
  /** The file's store (set once `beforeAll` has run). */
  readonly store: MongoReactionStore;
  /** A droplet with the rig's defaults, then `env`, then `extra` over its settings. */
  droplet(
    env?: Record<string, string>,
    extra?: Partial<Parameters<typeof startInProcessDroplet>[0]>,
  ): Promise<InProcessDroplet>;
  /** A client of `d`, closed after the test. */
  connect(d: InProcessDroplet): Promise<WsTestClient>;
  /** Closes `client` after the test. */
  track(client: WsTestClient): WsTestClient;
}

export function useDropletRig(defaults: Record<string, string> = {}): DropletRig {
  let db: TestDatabase | undefined;
  let store: MongoReactionStore | undefined;
  const running: InProcessDroplet[] = [];
  const clients: WsTestClient[] = [];

  beforeAll(async () => {
    db = await startTestDatabase();
    store = await db.openStore();
  }, 60_000);

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(running.splice(0).map((d) => d.droplet.stop()));
  });

  afterAll(async () => {
    await db?.cleanup();
  });

  const rig: DropletRig = {
    get store() {
      if (store === undefined) throw new Error('the test database is not up (see beforeAll)');
      return store;
    },
    async droplet(env = {}, extra = {}) {
      const d = await startInProcessDroplet({
        ...dropletTestSettings({ ...defaults, ...env }),
        store: rig.store,
        ...extra,
      });
      running.push(d);
      return d;
    },
    async connect(d) {
      return rig.track(await WsTestClient.connect(d.wsUrl));
    },
    track(client) {
      clients.push(client);
      return client;
    },
  };
  return rig;
}
