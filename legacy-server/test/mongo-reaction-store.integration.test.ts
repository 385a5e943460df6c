import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { MongoClient, MongoServerError } from 'mongodb';
import { StoreUnavailableError, type ReactionStore } from '@reactometer/shared';
import { describeReactionStoreContract } from '@reactometer/shared/contract-tests';
import { startFerretDb, type FerretDbProcess } from '@reactometer/devkit/ferretdb';
import { eventually } from '@reactometer/shared/testing';
import { freePort } from '@reactometer/devkit';
import {
  EMOJI_COUNTS,
  REACTION_STATES,
  createMongoReactionStore,
  type MongoReactionStore,
} from '../src/mongo-reaction-store.js';

// One FerretDB per test file, on its own port and data folder; each part of the file uses its own
// database in it. The server outlives the contract suite because the fault tests below stop it.
let ferret: FerretDbProcess | undefined;
let dataDir: string | undefined;
/** A second connection of the test's own, to empty and inspect databases behind the store's back. */
let admin: MongoClient | undefined;

function server(): FerretDbProcess {
  if (ferret === undefined) throw new Error('FerretDB did not start');
  return ferret;
}

function adminClient(): MongoClient {
  if (admin === undefined) throw new Error('FerretDB did not start');
  return admin;
}

/**
 * A TCP proxy in front of FerretDB that can stop passing bytes while keeping every connection
 * open: a database that hangs or sits behind a network partition, which a stopped process (it
 * refuses connections at once) does not show.
 */
async function startFreezableProxy(target: {
  host: string;
  port: number;
}): Promise<{ uri: string; freeze(): void; thaw(): void; close(): Promise<void> }> {
  let frozen = false;
  const sockets = new Set<net.Socket>();
  /** Delivers what was held back, like TCP retransmitting once a partition heals. */
  const releases = new Set<() => void>();
  // Bytes are forwarded by hand rather than with pipe(): pipe() resumes a paused socket.
  const forward = (from: net.Socket, to: net.Socket): void => {
    const held: Buffer[] = [];
    const send = (chunk: Buffer): void => {
      if (!to.destroyed) to.write(chunk);
    };
    from.on('data', (chunk: Buffer) => (frozen ? held.push(chunk) : send(chunk)));
    const release = (): void => held.splice(0).forEach(send);
    releases.add(release);
    from.on('close', () => releases.delete(release));
  };
  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    track(client);
    track(upstream);
    forward(client, upstream);
    forward(upstream, client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    uri: `mongodb://127.0.0.1:${address.port}/`,
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
      for (const release of [...releases]) release();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const uniqueDbName = (purpose: string): string =>
  `reactometer_${purpose}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'reactometer-ferretdb-'));
  ferret = await startFerretDb({ dataDir });
  admin = new MongoClient(ferret.uri, { serverSelectionTimeoutMS: 5_000 });
  await admin.connect();
}, 180_000); // the first run builds FerretDB

afterAll(async () => {
  await admin?.close();
  await ferret?.stop();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

describeReactionStoreContract('MongoDB adapter on FerretDB', async () => {
  const dbName = uniqueDbName('contract');
  const store = await createMongoReactionStore({
    uri: server().uri,
    dbName,
    // A small page, so that the contract's 250 states take three pages (100, 100, 50).
    scanPageSize: 100,
    // The contract checks what the store does, not how fast: on a loaded machine FerretDB's
    // single SQLite writer can stall one write for seconds (over 4 s seen with a load average of
    // 7 on 2 cores), where a 503 is the right answer but a failed test. The default time limits
    // are tested below, with the database down or silent.
    serverSelectionTimeoutMs: 5_000,
    operationTimeoutMs: 15_000,
  });
  const db = adminClient().db(dbName);
  return {
    store,
    reset: async () => {
      await db.collection(REACTION_STATES).deleteMany({});
      await db.collection(EMOJI_COUNTS).deleteMany({});
    },
    teardown: async () => {
      await store.close();
      await db.dropDatabase();
    },
  };
});

describe('MongoDB adapter on FerretDB: adapter specifics', () => {
  let store: MongoReactionStore | undefined;
  let dbName = '';
  const open = (): MongoReactionStore => {
    if (store === undefined) throw new Error('store not created');
    return store;
  };

  beforeAll(async () => {
    dbName = uniqueDbName('adapter');
    store = await createMongoReactionStore({ uri: server().uri, dbName, scanPageSize: 100 });
  });

  afterAll(async () => {
    await store?.close();
  });

  it('creates the indexes the leaderboard and reconcile use', async () => {
    const db = adminClient().db(dbName);
    const countIndexes = await db.collection(EMOJI_COUNTS).indexes();
    const stateIndexes = await db.collection(REACTION_STATES).indexes();
    expect(countIndexes.map((i) => i.key)).toContainEqual({ count: -1 });
    expect(stateIndexes.map((i) => i.key)).toContainEqual({ baseEmoji: 1 });
  });

  it('keeps emoji names and keys in values: documents have only the schema fields', async () => {
    await open().adjustCount('a.b', 1);
    await open().putState(
      {
        key: '$k.x|y',
        ref: { team: 'T', item: 'file:F1', user: 'U', reaction: 'a.b' },
        baseEmoji: 'a.b',
        present: true,
        eventTs: '001700000000.000001',
        rev: 1,
        pending: null,
      },
      null,
    );
    const db = adminClient().db(dbName);
    expect(await db.collection(EMOJI_COUNTS).findOne({ _id: 'a.b' as never })).toEqual({
      _id: 'a.b',
      count: 1,
      version: 1,
    });
    const state = await db.collection(REACTION_STATES).findOne({ _id: '$k.x|y' as never });
    expect(Object.keys(state ?? {}).sort()).toEqual(
      ['_id', 'baseEmoji', 'eventTs', 'pending', 'present', 'ref', 'rev'].sort(),
    );
  });

  it('pages scanStates on an exact multiple of the page size without losing or repeating', async () => {
    const db = adminClient().db(dbName);
    await db.collection(REACTION_STATES).deleteMany({});
    // Leading characters from different scripts and byte lengths: paging with `_id > last`
    // only works if the server's sort order and its `$gt` agree on all of them.
    const leads = ['a', 'Z', '$', '.', '%', 'é', '日', '👍', '|'];
    const keys = Array.from(
      { length: 200 },
      (_, i) => `${leads[i % leads.length]}|${String(i).padStart(3, '0')}`,
    ).sort();
    for (const key of keys) {
      const written = await open().putState(
        {
          key,
          ref: { team: 'T', item: 'file:F1', user: key, reaction: 'x' },
          baseEmoji: 'x',
          present: true,
          eventTs: '001700000000.000001',
          rev: 1,
          pending: null,
        },
        null,
      );
      expect(written).toBe(true);
    }
    const scanned: string[] = [];
    for await (const state of open().scanStates()) scanned.push(state.key);
    expect(scanned.sort()).toEqual(keys);
  });

  it('refuses a negative or fractional count in setCount before touching the database', async () => {
    await expect(open().setCount('x', -1, null)).rejects.toBeInstanceOf(RangeError);
    await expect(open().setCount('x', 1.5, null)).rejects.toBeInstanceOf(RangeError);
    expect((await open().listCounts()).find((c) => c.emoji === 'x')).toBeUndefined();
  });

  it('passes errors that are not about availability through unchanged', async () => {
    // A count stored as a string (a hand edit, say): the server refuses to `$inc` it. That is a
    // data problem, not an outage, and must not be disguised as a 503 that Slack retries forever.
    await adminClient()
      .db(dbName)
      .collection(EMOJI_COUNTS)
      .insertOne({ _id: 'corrupt' as never, count: 'three', version: 1 });
    const err: unknown = await open()
      .adjustCount('corrupt', 1)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err).not.toBeInstanceOf(StoreUnavailableError);
    // A malformed document is reported as such, not as an outage either.
    const read: unknown = await open()
      .listCounts()
      .catch((e: unknown) => e);
    expect(read).toBeInstanceOf(Error);
    expect(read).not.toBeInstanceOf(StoreUnavailableError);
    expect(String(read)).toContain('malformed document corrupt');
    await adminClient()
      .db(dbName)
      .collection(EMOJI_COUNTS)
      .deleteOne({ _id: 'corrupt' as never });
  });
});

describe('MongoDB adapter on FerretDB: database down', () => {
  /** Generous: the target is about 2 s; this only proves that nothing hangs. */
  const NO_HANG_MS = 5_000;

  type Call = [name: string, call: (s: ReactionStore) => Promise<unknown>];
  const state = {
    key: 'down|1',
    ref: { team: 'T', item: 'file:F1', user: 'U1', reaction: 'fire' },
    baseEmoji: 'fire',
    present: true,
    eventTs: '001700000000.000001',
    rev: 2,
    pending: null,
  } as const;
  const everyMethod: Call[] = [
    ['getState', (s) => s.getState('down|1')],
    ['putState insert', (s) => s.putState({ ...state, key: 'down|2', rev: 1 }, null)],
    ['putState update', (s) => s.putState(state, 1)],
    ['adjustCount +1', (s) => s.adjustCount('fire', 1)],
    ['adjustCount -1', (s) => s.adjustCount('fire', -1)],
    ['setCount', (s) => s.setCount('fire', 5, 1)],
    ['listCounts', (s) => s.listCounts()],
    [
      'scanStates',
      async (s) => {
        for await (const _ of s.scanStates()) void _;
      },
    ],
    ['ping', (s) => s.ping()],
  ];

  /** Runs `call` and returns what it rejected with and how long that took. */
  async function failure(call: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
    const started = performance.now();
    try {
      await call();
    } catch (error) {
      return { error, ms: performance.now() - started };
    }
    throw new Error('expected the call to fail while the database is down');
  }

  let store: MongoReactionStore | undefined;
  const open = (): MongoReactionStore => {
    if (store === undefined) throw new Error('store not created');
    return store;
  };

  beforeAll(async () => {
    store = await createMongoReactionStore({ uri: server().uri, dbName: uniqueDbName('down') });
    await open().putState({ ...state, rev: 1 }, null);
    await open().adjustCount('fire', 1);
  });

  afterAll(async () => {
    await server().start(); // in case a test failed while it was stopped
    await store?.close();
  });

  it('rejects every method with StoreUnavailableError without hanging, then recovers after a restart', async () => {
    await server().stop();

    for (const [name, call] of everyMethod) {
      const { error, ms } = await failure(() => call(open()));
      expect({ name, error }).toEqual({ name, error: expect.any(StoreUnavailableError) });
      expect((error as StoreUnavailableError).code).toBe('store_unavailable');
      expect({ name, fastEnough: ms < NO_HANG_MS }).toEqual({ name, fastEnough: true });
    }

    // Callers queued behind each other on one document do not add up their waits: each one hears
    // within its own deadline, not after everyone ahead of it has timed out.
    const started = performance.now();
    const queued = await Promise.allSettled(
      Array.from({ length: 20 }, () => open().adjustCount('fire', 1)),
    );
    expect(performance.now() - started).toBeLessThan(NO_HANG_MS);
    expect(
      queued.every((r) => r.status === 'rejected' && r.reason instanceof StoreUnavailableError),
    ).toBe(true);

    await server().start();
    // The same store object reconnects by itself; the driver rediscovers the server.
    await eventually(
      'the store to answer again',
      () =>
        open()
          .ping()
          .then(() => true),
      undefined,
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(await open().getState('down|1')).toEqual({ ...state, rev: 1 });
    expect(await open().putState(state, 1)).toBe(true);
    // Nothing written while the database was down; the count carries on from before the outage.
    expect(await open().adjustCount('fire', 1)).toEqual({ emoji: 'fire', count: 2, version: 2 });
    expect(await open().listCounts()).toEqual([{ emoji: 'fire', count: 2, version: 2 }]);
  }, 60_000);

  it('refuses every call once closed, without reconnecting', async () => {
    const closing = await createMongoReactionStore({
      uri: server().uri,
      dbName: uniqueDbName('closed'),
    });
    await closing.ping();
    await closing.close();
    for (const [name, call] of everyMethod) {
      const { error } = await failure(() => call(closing));
      expect({ name, error }).toEqual({ name, error: expect.any(StoreUnavailableError) });
    }
  });

  it('fails to start with StoreUnavailableError when nothing listens at the address', async () => {
    const port = await freePort();
    const started = performance.now();
    const err: unknown = await createMongoReactionStore({
      uri: `mongodb://127.0.0.1:${port}/`,
      dbName: 'nowhere',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as StoreUnavailableError).cause).toBeInstanceOf(Error);
    expect(performance.now() - started).toBeLessThan(NO_HANG_MS);
  });
});

describe('MongoDB adapter on FerretDB: database stops answering', () => {
  it('answers callers within the operation timeout, sends no queued write, and recovers', async () => {
    const proxy = await startFreezableProxy({ host: '127.0.0.1', port: server().port });
    const store = await createMongoReactionStore({ uri: proxy.uri, dbName: uniqueDbName('hang') });
    try {
      expect(await store.adjustCount('hang', 1)).toEqual({ emoji: 'hang', count: 1, version: 1 });

      proxy.freeze();
      const started = performance.now();
      // One +1 reaches the (frozen) wire; the other ten wait for their turn behind it.
      const writes = Array.from({ length: 11 }, () => store.adjustCount('hang', 1));
      const read = store.getState('nothing-here');
      const outcomes = await Promise.allSettled([...writes, read]);
      const elapsed = performance.now() - started;

      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
      }
      // Driven by the store's own 2 s deadline: nothing in the driver fails faster on a silent
      // socket. The bound is generous; it proves there is no hang.
      expect(elapsed).toBeGreaterThanOrEqual(1_900);
      expect(elapsed).toBeLessThan(5_000);

      proxy.thaw();
      await eventually(
        'the store to answer again',
        () => store.ping().then(() => true),
        undefined,
        { timeoutMs: 15_000, intervalMs: 200 },
      );
      const after = await store.listCounts();
      // The write that was on the wire may still land once bytes flow again (a timeout cannot
      // tell); the ten that were still queued were never sent.
      expect(after).toHaveLength(1);
      expect([1, 2]).toContain(after[0]?.count);
      expect(after[0]?.version).toBe(after[0]?.count);
    } finally {
      proxy.thaw();
      await store.close();
      await proxy.close();
    }
  }, 60_000);
});
