import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DeleteCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError } from '@reactometer/shared';
import { describeReactionStoreContract } from '@reactometer/shared/contract-tests';
import { createDocumentClient, destroyDocumentClient } from '../src/adapters/dynamodb-client.js';
import { DynamoReactionStore } from '../src/adapters/dynamodb-reaction-store.js';
import { startDynalite, type RunningDynalite } from '@reactometer/devkit/offline';
import { createTables, type TableNames } from '@reactometer/devkit/offline';

const REGION = 'us-east-1';

function uniqueNames(): TableNames {
  const id = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  return {
    states: `t-${id}-states`,
    counts: `t-${id}-counts`,
    connections: `t-${id}-connections`,
    fanout: `t-${id}-fanout`,
  };
}

async function truncate(
  client: DynamoDBDocumentClient,
  table: string,
  keyName: string,
): Promise<void> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: table,
        ProjectionExpression: '#k',
        ExpressionAttributeNames: { '#k': keyName },
        ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
      }),
    );
    await Promise.all(
      (page.Items ?? []).map((item) =>
        client.send(new DeleteCommand({ TableName: table, Key: { [keyName]: item[keyName] } })),
      ),
    );
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
}

/** A dynalite of its own, fresh tables from infra/tables.yml, and a store on them. */
async function startStoreOnDynalite(scanPageSize?: number): Promise<{
  dynalite: RunningDynalite;
  client: DynamoDBDocumentClient;
  names: TableNames;
  store: DynamoReactionStore;
}> {
  const dynalite = await startDynalite();
  const client = createDocumentClient({ endpoint: dynalite.endpoint, region: REGION });
  const names = uniqueNames();
  await createTables(client, names);
  const store = new DynamoReactionStore({
    client,
    statesTable: names.states,
    countsTable: names.counts,
    ...(scanPageSize === undefined ? {} : { scanPageSize }),
  });
  return { dynalite, client, names, store };
}

// The tables come from infra/tables.yml through createTables, the same path the local stack
// takes, so the contract also proves that the deployed key schemas fit the adapter. A small scan
// page makes the 250-state test read many pages.
describeReactionStoreContract('DynamoDB (dynalite)', async () => {
  const { dynalite, client, names, store } = await startStoreOnDynalite(40);
  return {
    store,
    reset: async () => {
      await truncate(client, names.states, 'key');
      await truncate(client, names.counts, 'emoji');
    },
    teardown: async () => {
      destroyDocumentClient(client);
      await dynalite.stop();
    },
  };
});

describe('DynamoReactionStore.insertCount (beyond the port: a count keeps its version)', () => {
  let dynalite: RunningDynalite;
  let client: DynamoDBDocumentClient;
  let store: DynamoReactionStore;

  beforeAll(async () => {
    ({ dynalite, client, store } = await startStoreOnDynalite());
  });
  afterAll(async () => {
    destroyDocumentClient(client);
    await dynalite.stop();
  });

  it('writes the count with its version only where none exists', async () => {
    expect(await store.insertCount({ emoji: 'tada', count: 4, version: 9 })).toBe(true);
    expect(await store.insertCount({ emoji: 'tada', count: 1, version: 1 })).toBe(false);
    expect(await store.listCounts()).toEqual([{ emoji: 'tada', count: 4, version: 9 }]);
    // The port's operations carry on from the inserted version.
    expect(await store.adjustCount('tada', 1)).toEqual({ emoji: 'tada', count: 5, version: 10 });
  });

  it('refuses a count that is not a non-negative integer', async () => {
    await expect(store.insertCount({ emoji: 'x', count: -1, version: 1 })).rejects.toThrow(
      RangeError,
    );
  });
});

/** Runs `fn`, expecting StoreUnavailableError; returns it with the time it took. */
async function expectUnavailable(
  fn: () => Promise<unknown>,
): Promise<{ error: StoreUnavailableError; ms: number }> {
  const started = Date.now();
  const error = await fn().then(
    () => {
      throw new Error('expected StoreUnavailableError, but the call succeeded');
    },
    (err: unknown) => err,
  );
  const ms = Date.now() - started;
  expect(error).toBeInstanceOf(StoreUnavailableError);
  expect((error as StoreUnavailableError).code).toBe('store_unavailable');
  expect((error as StoreUnavailableError).cause).toBeDefined();
  return { error: error as StoreUnavailableError, ms };
}

const state = {
  key: 'T1|message%3AC1%3A1.2|U1|smile',
  ref: { team: 'T1', item: 'message:C1:1.2', user: 'U1', reaction: 'smile' },
  baseEmoji: 'smile',
  present: true,
  eventTs: '001700000000.000001',
  rev: 1,
  pending: null,
};

/** Every port operation (and `insertCount`), so that no method escapes the error mapping. */
const OPERATIONS: ReadonlyArray<[string, (store: DynamoReactionStore) => Promise<unknown>]> = [
  ['getState', (s) => s.getState(state.key)],
  ['putState', (s) => s.putState(state, null)],
  ['adjustCount +1', (s) => s.adjustCount('smile', 1)],
  ['adjustCount -1', (s) => s.adjustCount('smile', -1)],
  ['setCount', (s) => s.setCount('smile', 3, null)],
  ['listCounts', (s) => s.listCounts()],
  [
    'scanStates',
    async (s) => {
      for await (const _ of s.scanStates()) {
        // draining is enough
      }
    },
  ],
  ['ping', (s) => s.ping()],
  ['insertCount', (s) => s.insertCount({ emoji: 'smile', count: 3, version: 7 })],
];

// Generous: the client gives up after 2 attempts of at most ~1 s each; the bound only proves that
// nothing waits for the SDK's defaults (no timeout at all).
const NO_HANG_MS = 8_000;

describe('DynamoReactionStore when DynamoDB is unavailable', () => {
  describe('after dynalite stopped (connection refused)', () => {
    let dynalite: RunningDynalite;
    let client: DynamoDBDocumentClient;
    let store: DynamoReactionStore;

    beforeAll(async () => {
      ({ dynalite, client, store } = await startStoreOnDynalite());
      await store.ping();
      expect(await store.putState(state, null)).toBe(true);
      await dynalite.stop();
    });
    afterAll(() => destroyDocumentClient(client));

    it.each(OPERATIONS)(
      '%s throws StoreUnavailableError quickly',
      async (_name, operation) => {
        const { error, ms } = await expectUnavailable(() => operation(store));
        expect(error.message).toMatch(/^DynamoDB /);
        expect(ms).toBeLessThan(NO_HANG_MS);
      },
      2 * NO_HANG_MS,
    );
  });

  describe('when the endpoint accepts connections but never answers (black hole)', () => {
    let blackHole: Server;
    const sockets = new Set<Socket>();
    let client: DynamoDBDocumentClient;
    let store: DynamoReactionStore;

    beforeAll(async () => {
      blackHole = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
      const { port } = blackHole.address() as { port: number };
      client = createDocumentClient({
        endpoint: `http://127.0.0.1:${port}`,
        region: REGION,
        requestTimeoutMs: 300,
      });
      store = new DynamoReactionStore({ client, statesTable: 'states', countsTable: 'counts' });
    });
    afterAll(async () => {
      destroyDocumentClient(client);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => blackHole.close(() => resolve()));
    });

    it.each(OPERATIONS)(
      '%s times out into StoreUnavailableError',
      async (_name, operation) => {
        const { error, ms } = await expectUnavailable(() => operation(store));
        expect((error.cause as Error).name).toBe('TimeoutError');
        expect(ms).toBeLessThan(NO_HANG_MS);
      },
      2 * NO_HANG_MS,
    );
  });

  describe('errors that are not outages', () => {
    let dynalite: RunningDynalite;
    let client: DynamoDBDocumentClient;
    let store: DynamoReactionStore;

    beforeAll(async () => {
      dynalite = await startDynalite();
      client = createDocumentClient({ endpoint: dynalite.endpoint, region: REGION });
      // No tables: every data call fails with ResourceNotFoundException.
      store = new DynamoReactionStore({
        client,
        statesTable: 'missing-states',
        countsTable: 'missing-counts',
      });
    });
    afterAll(async () => {
      destroyDocumentClient(client);
      await dynalite.stop();
    });

    it('are rethrown as they are, so a broken deployment is not mistaken for a retryable outage', async () => {
      await expect(store.getState('k')).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
      });
      await expect(store.adjustCount('smile', -1)).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
      });
      await expect(store.listCounts()).rejects.not.toBeInstanceOf(StoreUnavailableError);
    });

    it('make ping fail with StoreUnavailableError, so /healthz answers 503', async () => {
      const { error } = await expectUnavailable(() => store.ping());
      expect((error.cause as Error).name).toBe('ResourceNotFoundException');
    });
  });
});
