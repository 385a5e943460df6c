import { setImmediate as nextTurn } from 'node:timers/promises';
import { describeReactionStoreContract } from '@reactometer/shared/contract-tests';
import { InMemoryReactionStore } from '@reactometer/shared/testing';

// The reference adapter passes the same suite as the database adapters, which also checks the
// suite itself. Random yields before each operation interleave concurrent callers the way a
// database's latency does, so the concurrency tests exercise real interleavings.
describeReactionStoreContract('in-memory', async () => {
  const store = new InMemoryReactionStore({
    beforeOperation: async () => {
      for (let i = Math.floor(Math.random() * 3); i > 0; i--) await nextTurn();
    },
  });
  return {
    store,
    reset: async () => {
      store.states.clear();
      store.counts.clear();
    },
    teardown: async () => undefined,
  };
});
